// Hostile: a catastrophic OOM (new Array(1e9).fill(0)) takes down the worker; it is replaced, the port keeps accepting, a neighbour answers again within 2 s.

import t from 'tap';
import { startService } from '../helpers/service.js';
import { get, hostile } from './helpers.js';

t.test('catastrophic OOM', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const bomb = await svc.deploy(hostile('() => new Array(1e9).fill(0)'), { memoryMb: 64, timeoutMs: 10000 });
  const neighbour = await svc.deploy("export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'neighbour' })");
  t.equal((await get(neighbour.port, '/')).text, 'neighbour');

  const boom = await get(bomb.port, '/boom');
  t.equal(boom.status, 0, 'the request that crashed the worker gets no answer (its connection closes)');

  // The neighbour on the same (replaced) worker answers again; the port never refused a connection.
  const started = Date.now();
  const again = await get(neighbour.port, '/');
  t.equal(again.text, 'neighbour', 'the neighbour answers again');
  t.ok(Date.now() - started < 2000, 'within 2 s (a liveness bound)');
  const ok = await get(bomb.port, '/ok');
  t.equal(ok.status, 200, 'the crashing server itself is served again too');
  t.match(svc.output(), /catastrophic isolate error/);
  const view = (await svc.api('GET', `/servers/${bomb.httpdid}`)).body;
  t.equal(view.state, 'running');
});
