// Fixed log-scale latency buckets: counted in the workers, merged in the control process, exposed as p50/p99 and as a Prometheus histogram. Imports nothing.

const MULTIPLIERS = [1, 1.5, 2, 3, 5, 7] as const;

/**
 * Upper bounds of the finite buckets, in ms: 1, 1.5, 2, 3, 5 and 7 per decade, from 0.1 ms to 70 s
 * (36 bounds; neighbours differ by a factor of 1.33 to 1.67). A last bucket (+Inf) takes the rest.
 * Fixed, so that histograms from any worker, of any generation, add up bucket by bucket.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze([-1, 0, 1, 2, 3, 4].flatMap((decade) => MULTIPLIERS.map((m) => Number((m * 10 ** decade).toPrecision(2)))));

/** Bucket counts (one per bound, then +Inf; not cumulative) and the sum of the observed values. */
export interface LatencyHistogram {
  /** `LATENCY_BOUNDS_MS.length + 1` counts; `counts[i]` holds values in `(bounds[i-1], bounds[i]]`. */
  counts: number[];
  /** Sum of every observed value, ms. */
  sumMs: number;
}

/** A histogram with no observations. */
export function emptyHistogram(): LatencyHistogram {
  return { counts: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0), sumMs: 0 };
}

/** Counts one value, in ms (negative values count as 0). */
export function observe(h: LatencyHistogram, ms: number): void {
  const v = ms > 0 ? ms : 0;
  let i = 0;
  while (i < LATENCY_BOUNDS_MS.length && v > (LATENCY_BOUNDS_MS[i] as number)) i++;
  h.counts[i] = (h.counts[i] ?? 0) + 1;
  h.sumMs += v;
}

/** Adds `from` into `into`, bucket by bucket. Missing buckets in `from` (a malformed message) count as 0. */
export function mergeInto(into: LatencyHistogram, from: Readonly<LatencyHistogram>): void {
  for (let i = 0; i < into.counts.length; i++) into.counts[i] = (into.counts[i] ?? 0) + (from.counts[i] ?? 0);
  into.sumMs += from.sumMs;
}

/** Number of observations. */
export function totalCount(h: Readonly<LatencyHistogram>): number {
  let n = 0;
  for (const c of h.counts) n += c;
  return n;
}

/**
 * The `q` quantile (0 < q ≤ 1), in ms, estimated by linear interpolation inside the bucket that
 * holds it (so within one bucket's width of the true value); `null` with no observations. A
 * quantile in the +Inf bucket is reported as the largest finite bound (70 000 ms).
 */
export function quantile(h: Readonly<LatencyHistogram>, q: number): number | null {
  const total = totalCount(h);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let below = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i] ?? 0;
    if (below + c >= rank) {
      const lower = i === 0 ? 0 : (LATENCY_BOUNDS_MS[i - 1] as number);
      const upper = LATENCY_BOUNDS_MS[i];
      if (upper === undefined) return lower;
      return Math.round((lower + ((upper - lower) * (rank - below)) / c) * 1000) / 1000;
    }
    below += c;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1] ?? null;
}
