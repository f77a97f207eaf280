// Hostile: one huge string (V8 allocates it in one piece, past the heap limit) is a 503 `memory` (isolated-vm's heap limit or the worker's RSS backstop, whichever sees it first); the worker's memory comes back, the neighbour keeps answering and nothing restarts (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile, rssMb, statsWhen, until } from './helpers.js';

t.test('a string far larger than memoryMb', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { httpdid, port } = await svc.deploy(
    hostile(`() => { globalThis.s = 'x'.repeat(2 ** 29 - 100); s.indexOf('y'); globalThis.u = s.toUpperCase(); return { version: '1.1', statuscode: 200, headers: {}, message: String(u.length) }; }`),
    { memoryMb: 64, timeoutMs: 10000 },
  );
  const worker = c.worker;
  const idle = c.idleMb;
  for (let i = 0; i < 1; i++) {
    const r = await get(port, '/big');
    t.equal(r.status, 503, `round ${i}: 503`);
    // isolated-vm's heap limit, or the worker's RSS backstop when its poll sees the string first (it answers then; the string's isolate stops once the built-in returns).
    t.match(r.text, /memory limit \(64 MiB\)|the worker's memory went over its budget/, `round ${i}: names the memory limit or the worker's budget`);
    t.equal((await get(port, '/ok')).text, 'ok 1', `round ${i}: a fresh isolate serves after`);
  }
  // The string's isolate stops only once its built-in returns (seconds on a loaded machine), after the answer when the RSS backstop gave it.
  await until(() => rssMb(worker) < idle + 2 * 64 + 64, 10_000);
  const after = rssMb(worker);
  t.ok(after < idle + 2 * 64 + 64, `the worker's memory came back: ${after.toFixed(0)} MiB (idle ${idle.toFixed(0)} MiB)`);
  // Measured: peaks of ~1.1 GiB under memoryMb 64, with the worker's RSS backstop too (the 512 MiB string and
  // its 512 MiB upper-cased copy are each allocated in one piece, between two of its 100 ms polls).
  await c.check(t, { memoryMb: 64, rssTodo: 'one string allocation is not bounded by memoryMb: the worker peaks at ~1.1 GiB (issue 11, Memory: strings)' });
  const show = { body: { stats: await statsWhen(svc.api, httpdid, (s) => s.outcomes.memory === 1) } };
  t.equal(show.body.stats.outcomes.memory, 1, 'counted as memory');
  t.equal(show.body.stats.workerRestarts, 0, 'no worker restart');
});
