// Hostile: a handler that never returns (sync loop, microtask loop, promise that never settles) gets 504; the next request is served (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain } from './helpers.js';

const HANDLER = `
let served = 0;
export default async (r) => {
  served++;
  if (r.path === '/spin') for (;;) {}
  if (r.path === '/microtasks') { const loop = () => Promise.resolve().then(loop); loop(); await new Promise(() => {}); }
  if (r.path === '/never') await new Promise(() => {});
  if (r.path === '/slow-getter') return { version: '1.1', statuscode: 200, headers: {}, get message() { for (;;) {} } };
  return { version: '1.1', statuscode: 200, headers: {}, message: 'served ' + served };
};`;

t.test('time limit', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { port } = await svc.deploy(HANDLER, { timeoutMs: 300 });
  for (const path of ['/spin', '/microtasks', '/never', '/slow-getter']) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    t.equal(res.status, 504, path);
    t.match(await res.text(), /^the handler exceeded its time limit \(request id [^)]+\)\n$/, path);
    const next = await fetch(`http://127.0.0.1:${port}/`);
    t.equal(next.status, 200, `served after ${path}`);
    // The isolate was replaced: module state starts again.
    t.equal(await next.text(), 'served 1', `fresh isolate after ${path}`);
  }
  await c.check(t);
});
