// Hostile: the microtask queue as a way around the time and memory limits — a queue flooded in one synchronous loop, a million queued jobs left behind a returned response, a promise chain that allocates as it goes, a thenable that re-queues itself — is answered at the request's deadline (504) or over its memory (503), the jobs left over never run outside a request, a neighbour on the same worker keeps answering within 2 s and the worker's RSS stays bounded.
//
// Sources: isolated-vm#109 ("isolated-vm won't return until the microtask queue is flushed";
// https://github.com/laverdet/isolated-vm/issues/109), isolated-vm#318 (no timeout while a promise is
// awaited; https://github.com/laverdet/isolated-vm/issues/318), nodejs/node#3020 (promises let code
// escape vm.runInContext's timeout; https://github.com/nodejs/node/issues/3020).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, cpuMs, get, hostile, statsWhen } from './helpers.js';

const CASES: Record<string, [string, number[]]> = {
  // Queued from one synchronous loop: the queue itself grows (V8 keeps it outside the JS heap's objects).
  '/flood-sync': [`() => { const f = () => {}; for (;;) Promise.resolve().then(f); }`, [503, 504]],
  // A million jobs, each 1 ms of work, behind a response returned at once (their closures alone may fill a 32 MiB heap first).
  '/behind-response': [
    `() => { for (let i = 0; i < 1e6; i++) Promise.resolve().then(() => { const end = Date.now() + 1; while (Date.now() < end); }); return { version: '1.1', statuscode: 200, headers: {}, message: 'returned' }; }`,
    [503, 504],
  ],
  // A chain that keeps every value it makes.
  '/chain-alloc': [`async () => { globalThis.keep = []; for (;;) { keep.push(new Array(1000).fill(keep.length)); await null; } }`, [503, 504]],
  // A thenable that resolves to itself again and again.
  '/self-thenable': [`() => { const t = { then(res) { Promise.resolve().then(() => res(t)); } }; return t; }`, [504]],
  // Rejections nobody handles, by the million.
  '/rejections': [`() => { for (;;) Promise.reject(new Error('x')); }`, [503, 504]],
};

t.test('microtask floods', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { httpdid, port } = await svc.deploy(
    hostile(
      `(r) => (${JSON.stringify(Object.fromEntries(Object.entries(CASES).map(([p, [a]]) => [p, a])))}[r.path] ? (0, eval)('(' + ${JSON.stringify(Object.fromEntries(Object.entries(CASES).map(([p, [a]]) => [p, a])))}[r.path] + ')')(r) : { version: '1.1', statuscode: 404, headers: {}, message: '' })`,
    ),
    // The CPU share over a 60 s window: back-to-back spins at their time limit stay under it (the cool-down is cpu-throttle's).
    { timeoutMs: 500, memoryMb: 32, cpuShareWindowMs: 60000 },
  );
  for (const [path, [, want]] of Object.entries(CASES)) {
    const t0 = performance.now();
    const r = await get(port, path);
    const ms = performance.now() - t0;
    t.ok(want.includes(r.status), `${path}: ${want.join(' or ')} (${r.status} ${r.text.trim().slice(0, 80)})`);
    t.ok(ms < 3000, `${path}: at its deadline plus a bounded margin (${ms.toFixed(0)} ms, timeoutMs 500)`);
    // Nothing left over runs while the server is idle.
    const before = cpuMs(c.worker);
    await new Promise((res) => setTimeout(res, 1000));
    const idle = cpuMs(c.worker) - before;
    t.ok(idle < 300, `${path}: idle for 1 s, the worker used ${idle} ms of CPU`);
    t.equal((await get(port, '/ok')).status, 200, `${path}: served after`);
  }
  const stats = await statsWhen(svc.api, httpdid, (s) => s.outcomes.timeout + s.outcomes.memory >= Object.keys(CASES).length);
  t.equal(stats.outcomes.timeout + stats.outcomes.memory, Object.keys(CASES).length, 'each counted as a timeout or memory');
  t.equal(stats.workerRestarts, 0, 'the worker never restarted');
  await c.check(t, { memoryMb: 32 });
});
