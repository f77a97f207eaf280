// Hostile: module evaluation is bounded like a request: a top-level await followed by a spin or a built-in V8 cannot interrupt, or one that never settles, is a 422 naming the cause within timeoutMs plus a bounded margin, never a hang nor a worker crash; the neighbour keeps answering (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { freePort, startService } from '../helpers/service.js';
import { workerPids, workersUp } from '../helpers/workers.js';
import { contain } from './helpers.js';

const EMPTY_MODULE = '[0,97,115,109,1,0,0,0]';

const CASES: Record<string, { source: string; reason: RegExp }> = {
  'await wasm then spin': {
    source: `await WebAssembly.compile(new Uint8Array(${EMPTY_MODULE})); for (;;) {}\nexport default () => ({});`,
    reason: /exceeded the time limit \(300 ms\)/,
  },
  'spin in a callback of a top-level promise': {
    source: `WebAssembly.compile(new Uint8Array(${EMPTY_MODULE})).then(() => { for (;;) {} });\nexport default () => ({});`,
    reason: /exceeded the time limit \(300 ms\)/,
  },
  // ~3 s of BigInt parsing (under isolated-vm's 5 s termination wait): V8 cannot interrupt it, the
  // host deadline answers; evaluated as the bootstrap's dependency, the timeout hitting it inside a
  // top-level await's continuation made V8 abort the worker (CHECK location_ != nullptr) when it returned.
  'a built-in V8 cannot interrupt, after a top-level await': {
    source: `await null; BigInt('1'.repeat(1.5e7));\nexport default () => ({});`,
    reason: /exceeded the time limit \(300 ms\)/,
  },
  'top-level await that never settles': {
    source: `await new Promise(() => {});\nexport default () => ({});`,
    reason: /top-level await did not settle/,
  },
};

t.test('module evaluation time', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const worker = (await workersUp(svc.proc.pid ?? 0, 1)).serving[0];
  for (const [name, { source, reason }] of Object.entries(CASES)) {
    const t0 = performance.now();
    const r = await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source, limits: { timeoutMs: 300 } });
    const ms = performance.now() - t0;
    t.equal(r.status, 422, `${name}: 422`);
    t.equal(r.body.error.code, 'ISO_ERR_API_INVALID_SOURCE', `${name}: invalid source`);
    t.match(r.body.error.message, reason, `${name}: says why (${r.body.error.message})`);
    // Bounded: far below the 5 s isolated-vm waits before giving up on a script (a hang would hit tap's timeout).
    t.ok(ms < 5000, `${name}: answered in ${ms.toFixed(0)} ms`);
  }
  // Long enough for the built-in to return in the isolate the deadline disposed.
  await new Promise((res) => setTimeout(res, 4000));
  t.equal(workerPids(svc.proc.pid ?? 0).serving[0], worker, 'the worker never exited');
  await c.check(t);
  const list = await svc.api('GET', '/servers');
  t.equal(list.body.length ?? list.body.servers?.length, 1, 'nothing was left deployed');
});
