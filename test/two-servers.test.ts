// Two servers at once, each with its own handler, module state and limits.

import t from 'tap';
import { example, startService } from './helpers/service.js';

const COUNTER = (name: string): string => `let n = 0;
export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: '${name} ' + (++n) });`;

t.test('two servers serve independently', async (t) => {
  const svc = await startService(t);
  const a = await svc.deploy(COUNTER('a'));
  const b = await svc.deploy(COUNTER('b'));
  t.not(a.httpdid, b.httpdid);
  const get = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/`)).text();
  const results = await Promise.all([get(a.port), get(b.port), get(a.port), get(b.port), get(a.port)]);
  t.same(results.filter((r) => r.startsWith('a')).sort(), ['a 1', 'a 2', 'a 3']);
  t.same(results.filter((r) => r.startsWith('b')).sort(), ['b 1', 'b 2']);

  // Stopping one leaves the other serving.
  t.equal((await svc.api('DELETE', `/servers/${a.httpdid}`)).status, 204);
  t.equal(await get(b.port), 'b 3');
  const c = await svc.deploy(example('notes-api.js'));
  const created = await fetch(`http://127.0.0.1:${c.port}/notes`, { method: 'POST', body: JSON.stringify({ text: 'hi' }) });
  t.equal(created.status, 201);
  t.same(await created.json(), { id: 1, text: 'hi' });
  t.same(await (await fetch(`http://127.0.0.1:${c.port}/notes?limit=5`)).json(), { notes: [{ id: 1, text: 'hi' }] });
  t.equal((await fetch(`http://127.0.0.1:${c.port}/notes/1`, { method: 'DELETE' })).status, 204);
  t.equal((await fetch(`http://127.0.0.1:${c.port}/elsewhere`)).status, 404);
  t.equal(await get(b.port), 'b 4');
});
