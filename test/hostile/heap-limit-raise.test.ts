// Hostile: heap growth that outruns isolated-vm's termination (a loop of small arrays kept in a global, 1000 doubles each) is held to twice memoryMb by the heap guard (src/sandbox/native/heap-guard.cc): without it isolated-vm raised the isolate's heap limit by 1 GiB, and on Node 24 such a loop under memoryLimit 64 grew its process past 3.7 GiB before "Script failed to terminate". Answered 503 `memory` (the isolate terminated, or, when one growth step is past twice the limit, V8's out-of-memory error and the worker retired); the worker's RSS stays within idle + 4 × memoryMb + 64 MiB, a neighbour on the same worker answers within 2 s (contain()).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile, statsWhen, until } from './helpers.js';

const CASES: Record<string, string> = {
  // Each element a fresh 8 KiB array: the heap fills faster than the termination lands.
  '/arrays': `() => { globalThis.a = []; for (;;) a.push(new Array(1000).fill(1.5)); }`,
  // The same, with objects of many properties.
  '/objects': `() => { globalThis.o = []; for (let i = 0; ; i++) { const x = {}; for (let k = 0; k < 64; k++) x['p' + k] = i + k + 0.5; o.push(x); } }`,
};

t.test('heap growth faster than termination', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { httpdid, port } = await svc.deploy(
    hostile(`(r) => (${JSON.stringify(CASES)}[r.path] ? (0, eval)('(' + ${JSON.stringify(CASES)}[r.path] + ')')(r) : { version: '1.1', statuscode: 404, headers: {}, message: '' })`),
    { memoryMb: 64, timeoutMs: 10000 },
  );
  for (const path of Object.keys(CASES)) {
    const r = await get(port, path);
    t.equal(r.status, 503, `${path}: 503 (${r.text.trim().slice(0, 80)})`);
    t.match(r.text, /memory limit \(64 MiB\)/, `${path}: names the memory limit`);
    // A growth step past twice the limit is V8's out-of-memory error instead: the worker is retired, the server hosted again.
    t.ok(await until(async () => (await get(port, '/ok')).status === 200, 10_000), `${path}: served after`);
  }
  await c.check(t, { memoryMb: 64 });
  const stats = await statsWhen(svc.api, httpdid, (s) => s.outcomes.memory === Object.keys(CASES).length);
  t.equal(stats.outcomes.memory, Object.keys(CASES).length, 'each counted as memory');
});
