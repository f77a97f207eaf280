// Hostile: code scheduled to run after a response (a wasm compilation's `.then`, a microtask chain) runs only within a request's time limit: no CPU is burned while the server is idle, the next request is not charged for it, and the neighbour keeps answering (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, cpuMs, get, hostile } from './helpers.js';

const EMPTY_MODULE = '[0,97,115,109,1,0,0,0]';

t.test('work queued after the response', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { httpdid, port } = await svc.deploy(
    hostile(`(r) => {
      if (r.path === '/compile-then-spin') WebAssembly.compile(new Uint8Array(${EMPTY_MODULE})).then(() => { for (;;) {} });
      if (r.path === '/instantiate-then-spin') WebAssembly.instantiate(new Uint8Array(${EMPTY_MODULE})).then(() => { for (;;) {} });
      if (r.path === '/microtask-spin') Promise.resolve().then(() => Promise.resolve()).then(() => { for (;;) {} });
      return { version: '1.1', statuscode: 200, headers: {}, message: 'answered' };
    }`),
    { timeoutMs: 300 },
  );
  const worker = c.worker;
  for (const path of ['/compile-then-spin', '/instantiate-then-spin', '/microtask-spin']) {
    const r = await get(port, path);
    // The spin runs inside the request's own time (its microtasks), so the request itself times out.
    t.equal(r.status, 504, `${path}: the request that queued the spin pays for it`);
    const before = cpuMs(worker);
    await new Promise((res) => setTimeout(res, 1000));
    const idleCpu = cpuMs(worker) - before;
    t.ok(idleCpu < 300, `${path}: idle for 1 s, the worker used ${idleCpu} ms of CPU (a spin would use ~1000)`);
    const ok = await get(port, '/ok');
    t.equal(ok.status, 200, `${path}: the next request is served, not charged for the spin`);
  }
  await c.check(t);
  const show = await svc.api('GET', `/servers/${httpdid}`);
  t.equal(show.body.stats.outcomes.timeout, 3, 'three timeouts, each the request that queued its spin');
  t.equal(show.body.stats.workerRestarts, 0, 'the worker never restarted');
});
