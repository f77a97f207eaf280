// queueMicrotask: its callbacks run in order before the handler's answer is serialized (inside the request's call, under its time limit); a non-function is a TypeError; a throwing callback fails nothing but a console line.

import t from 'tap';
import { startService } from './helpers/service.js';

const HANDLER = `export default async function handler(request) {
  const order = [];
  queueMicrotask(() => order.push('a'));
  queueMicrotask(() => order.push('b'));
  order.push('sync');
  let typeError = '';
  try { queueMicrotask(42); } catch (e) { typeError = e.constructor.name + ': ' + e.message; }
  if (request.path === '/throw') queueMicrotask(() => { throw new Error('from a microtask'); });
  await null;
  return { version: '1.1', statuscode: 200, headers: {}, message: JSON.stringify({ order, typeError }) };
}
`;

t.test('queueMicrotask', async (t) => {
  const svc = await startService(t);
  const { port, httpdid } = await svc.deploy(HANDLER);
  const r = JSON.parse(await (await fetch(`http://127.0.0.1:${port}/`)).text()) as { order: string[]; typeError: string };
  t.same(r.order, ['sync', 'a', 'b'], 'after the synchronous code, in order, before the answer');
  t.match(r.typeError, /^TypeError: Failed to execute 'queueMicrotask'/);
  const thrown = await fetch(`http://127.0.0.1:${port}/throw`);
  t.equal(thrown.status, 200, 'a callback that throws does not fail the request');
  await thrown.text();
  let logs = '';
  for (let i = 0; i < 50 && !/from a microtask/.test(logs); i++) {
    logs = JSON.stringify((await svc.api('GET', `/servers/${httpdid}/logs`)).body);
    await new Promise((res) => setTimeout(res, 50));
  }
  t.match(logs, /unhandled promise rejection: .*from a microtask/, 'it is a console line');
});
