// The fixed log-scale latency histogram: bucket bounds, placement on a bound, merging, and quantile estimates within one bucket.

import t from 'tap';
import { emptyHistogram, LATENCY_BOUNDS_MS, mergeInto, observe, quantile, totalCount } from '../src/core/histogram.js';

t.test('bounds', async (t) => {
  t.equal(LATENCY_BOUNDS_MS.length, 36);
  t.equal(LATENCY_BOUNDS_MS[0], 0.1);
  t.equal(LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1], 70000);
  t.ok(
    LATENCY_BOUNDS_MS.every((b, i) => i === 0 || b > (LATENCY_BOUNDS_MS[i - 1] ?? 0)),
    'strictly ascending',
  );
  t.ok(
    LATENCY_BOUNDS_MS.every((b, i) => i === 0 || b / (LATENCY_BOUNDS_MS[i - 1] ?? 1) <= 1.67),
    'neighbours at most a factor 1.67 apart',
  );
  t.equal(emptyHistogram().counts.length, 37, 'one more bucket for +Inf');
});

t.test('placement', async (t) => {
  const h = emptyHistogram();
  observe(h, 1); // on a bound: that bucket (le is inclusive)
  observe(h, 1.0001);
  observe(h, -5); // clock skew: counted as 0
  observe(h, 1e9); // beyond the last bound
  t.equal(h.counts[LATENCY_BOUNDS_MS.indexOf(1)], 1);
  t.equal(h.counts[LATENCY_BOUNDS_MS.indexOf(1.5)], 1);
  t.equal(h.counts[0], 1);
  t.equal(h.counts[36], 1);
  t.equal(totalCount(h), 4);
  t.equal(h.sumMs, 1 + 1.0001 + 0 + 1e9);
});

t.test('quantiles', async (t) => {
  const h = emptyHistogram();
  t.equal(quantile(h, 0.5), null, 'none before the first observation');
  for (let i = 0; i < 98; i++) observe(h, 4); // (3, 5]
  observe(h, 600); // (500, 700]
  observe(h, 650);
  const p50 = quantile(h, 0.5) ?? 0;
  t.ok(p50 > 3 && p50 <= 5, `p50 ${p50} in the bucket of 4 ms`);
  const p99 = quantile(h, 0.99) ?? 0;
  t.ok(p99 > 500 && p99 <= 700, `p99 ${p99} in the bucket of 600 ms`);
  const inf = emptyHistogram();
  observe(inf, 1e6);
  t.equal(quantile(inf, 0.5), 70000, 'in +Inf: the largest finite bound');
});

t.test('merging adds bucket by bucket', async (t) => {
  const a = emptyHistogram();
  const b = emptyHistogram();
  observe(a, 2);
  observe(b, 2);
  observe(b, 20);
  mergeInto(a, b);
  t.equal(a.counts[LATENCY_BOUNDS_MS.indexOf(2)], 2);
  t.equal(a.counts[LATENCY_BOUNDS_MS.indexOf(20)], 1);
  t.equal(totalCount(a), 3);
  t.equal(a.sumMs, 24);
  mergeInto(a, { counts: [1], sumMs: 0 });
  t.equal(totalCount(a), 4, 'a short message counts its buckets, the rest as 0');
});
