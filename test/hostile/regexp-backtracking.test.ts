// Hostile: regular expressions that backtrack catastrophically (nested quantifiers, backreferences, lookarounds — which V8's linear-time fallback does not take), a replace over a huge subject, and a pattern compiled from a huge source stay within the request's time and memory limits: 504 at the deadline (or 503 memory), the isolate replaced, a neighbour on the same worker answering within 2 s, the worker's RSS bounded.
//
// Sources: V8's "An additional non-backtracking RegExp engine" (Irregexp's runtime blows up
// exponentially, e.g. /(a*)*b/.exec('a'.repeat(100)); the fallback excludes backreferences, lookarounds
// and the u/i flags; https://v8.dev/blog/non-backtracking-regexp), and yamadashy/pdfvision#154 (a single
// regex.exec that never yields, stopped only by an engine-level timeout;
// https://github.com/yamadashy/pdfvision/pull/154).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, evalTable, get, hostile, peakRssMb, statsWhen } from './helpers.js';

/** path → the expression the handler evaluates. */
const CASES: Record<string, string> = {
  '/nested-quantifier': `/(a*)*b/.exec('a'.repeat(100))`,
  '/nested-unicode': `/(a+)+$/u.test('a'.repeat(60) + '!')`,
  '/backreference': `/^(\\w+\\s?)*(\\1)$/.test('an '.repeat(40) + '!')`,
  '/lookahead': `/^(?=(a+)+b)/.test('a'.repeat(60))`,
  '/case-insensitive-alternation': `/^(a|a|A)*$/i.test('a'.repeat(60) + 'b')`,
  '/global-replace-callback': `'a'.repeat(1e6).replace(/a/g, () => { const end = Date.now() + 1; while (Date.now() < end); return 'b'; })`,
  '/replace-growth': `(() => { let s = 'ab'; for (let i = 0; i < 40; i++) s = s.replace(/a/g, 'aa' + 'a'); return s.length; })()`,
  '/huge-pattern': `new RegExp('(?:' + Array.from({ length: 2e5 }, (_, i) => 'x' + i).join('|') + ')+$').test('x1'.repeat(1e4) + '!')`,
};

t.test('catastrophic regular expressions', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { httpdid, port } = await svc.deploy(
    hostile(evalTable(CASES)),
    // The CPU share over a 60 s window: back-to-back spins at their time limit stay under it (the cool-down is cpu-throttle's).
    { timeoutMs: 300, memoryMb: 32, cpuShareWindowMs: 60000 },
  );
  let failures = 0;
  for (const path of Object.keys(CASES)) {
    const t0 = performance.now();
    const r = await get(port, path);
    const ms = performance.now() - t0;
    // A source over the limit (8192 characters per MiB of memoryMb) is refused at construction: the handler raised.
    const refused = path === '/huge-pattern';
    if (r.status !== 200 && !refused) failures++;
    t.ok((refused ? [500] : [503, 504]).includes(r.status), `${path}: ${refused ? 'refused' : 'stopped'} (${r.status} ${r.text.trim().slice(0, 80)})`);
    t.ok(ms < 2000, `${path}: at its deadline plus a bounded margin (${ms.toFixed(0)} ms, timeoutMs 300)`);
    const ok = await get(port, '/ok');
    t.equal(ok.status, 200, `${path}: served after`);
    t.comment(`${path}: the worker's peak RSS so far ${peakRssMb(c.worker).toFixed(0)} MiB`);
  }
  const stats = await statsWhen(svc.api, httpdid, (s) => s.outcomes.timeout + s.outcomes.memory >= failures);
  t.equal(stats.outcomes.timeout + stats.outcomes.memory, failures, 'each counted as a timeout or memory');
  t.equal(stats.outcomes.exception, 1, 'the huge pattern: an exception (RangeError, before any compile)');
  t.equal(stats.workerRestarts, 0, 'the worker never restarted');
  // Measured over 7 runs before the heap guard: peaks of 200–569 MiB (bound ~290 MiB), most of it from /huge-pattern
  // (+50–115 MiB in its one compile: the RegExp compiler's memory, outside the isolate's heap) and /replace-growth
  // (+45–70 MiB). With the heap guard and the RegExp source limit (the 1.49M-character pattern refused): 171–174 MiB.
  await c.check(t, { memoryMb: 32 });
});
