// Hostile: conversions of a string near V8's length limits into arrays (split, Array.prototype methods called on a string, JSON.parse of a huge array) and a regular expression over a 127 MiB subject — which isolated-vm's tracker reports ending the whole process — are answered 503/504/500 within bounded time; a crash-prone call costs at most its worker, retired without a failed neighbour request; a neighbour on the same worker answers within 2 s and the worker's RSS stays bounded.
//
// Source: isolated-vm#202 ("Timeout is ignored when creating very large BigInts"): laverdet lists
// `'1'.repeat(0x7ffffff).split('')`, `.split(/./)`, `[].join.call(...)`, `[].slice.call(...)`,
// `[].sort.call(...)` and `JSON.parse('[' + '1,'.repeat(0x7fffffd) + '1]')` as crashing the process
// ("v8 has a maximum array length ... it just blows up immediately"), and y21 a RunWithTimeout abort from
// `/1+2/.test('1'.repeat(1024 ** 2 * 127))` under a 100 ms timeout
// (https://github.com/laverdet/isolated-vm/issues/202).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, evalTable, get, hostile, statsWhen, until } from './helpers.js';

const BIG = `'1'.repeat(0x7ffffff)`;
const CASES: Record<string, string> = {
  '/split-empty': `${BIG}.split('').length`,
  '/split-regexp': `${BIG}.split(/./).length`,
  '/split-one': `${BIG}.split(/1/).length`,
  '/join-call': `[].join.call(${BIG}).length`,
  '/slice-call': `[].slice.call(${BIG}).length`,
  '/sort-call': `[].sort.call(${BIG}).length`,
  '/json-array': `JSON.parse('[' + '1,'.repeat(0x7fffffd) + '1]').length`,
  '/regexp-127mib': `/1+2/.test('1'.repeat(1024 ** 2 * 127))`,
};

t.test('strings at V8 length limits turned into arrays', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { httpdid, port } = await svc.deploy(
    hostile(evalTable(CASES)),
    // 128 MiB: enough for the 128 Mi-character string itself; the time limit as isolated-vm#202's.
    { memoryMb: 128, timeoutMs: 100, cpuShareWindowMs: 60000 },
  );
  for (const path of Object.keys(CASES).filter((p) => p === process.env.CASE)) {
    const t0 = performance.now();
    const r = await get(port, path);
    const ms = performance.now() - t0;
    // Which call outlasts isolated-vm's termination wait varies from run to run: its isolate's loss is
    // reported seconds after its 504, while a later case runs on the server's fresh isolate, which it
    // must leave alone (before, that request was answered 502 "the sandbox was lost", or not at all).
    t.ok([500, 503, 504].includes(r.status), `${path}: refused (${r.status} ${r.text.trim().slice(0, 100)})`);
    // A call V8 cannot interrupt may run past the deadline, never the answer (plus a bounded grace).
    t.ok(ms < 3000, `${path}: answered in ${ms.toFixed(0)} ms (timeoutMs 100)`);
    t.ok(await until(async () => (await get(port, '/ok')).status === 200, 10_000), `${path}: served after (a retired worker's servers are hosted again meanwhile)`);
  }
  const stats = await statsWhen(svc.api, httpdid, (s) => s.outcomes.ok >= 1);
  t.comment(`outcomes ${JSON.stringify(stats.outcomes)}, workerRestarts ${stats.workerRestarts}`);
  t.notMatch(svc.output(), /sandbox worker exited \(/, 'no worker crashed (a retirement is not a crash)');
  // Measured: peaks of 1.0–2.7 GiB under memoryMb 128 before the heap guard, 1.6–1.8 GiB with it (one timed-out call still
  // filling its array beside the next case's fresh isolate), ~1.3 GiB once a replacement waits for the disposed isolate's
  // call: an array of 0x7ffffff elements, 1 GiB, is one young large object V8 allocates whatever the heap limit.
  await c.check(t, { memoryMb: 128, largeObjectMb: 1024 });
});
