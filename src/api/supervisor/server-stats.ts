// Per-server traffic totals in the control process: what live workers last reported plus what dead ones had counted, and worker restarts.

import { emptyHistogram, mergeInto, type LatencyHistogram } from '../../core/histogram.js';
import { OUTCOMES, type Outcome } from '../../core/outcome.js';
import type { ServerCounters } from '../../host/worker/protocol.js';

/** Outcome counts of one server across all its replicas and all the workers it has lived on. */
export type OutcomeCounts = Record<Outcome, number>;

/** Traffic counters of one server across all its replicas and all the workers it has lived on. */
export interface ServerStats {
  outcomes: OutcomeCounts;
  /** From the head received to the response written, merged bucket by bucket. */
  latency: LatencyHistogram;
  /** Bytes read from / written to the server's client sockets. */
  bytesIn: number;
  bytesOut: number;
  /** Outbound fetches started, their body bytes sent and received, and those refused (egress policy or limit). */
  subrequests: number;
  subrequestBytes: number;
  egressRefusals: number;
  /** Bytes used by the server's isolates now (last heartbeat sample), summed over its replicas. */
  heapUsed: number;
  /** How many times a worker hosting the server was replaced. */
  workerRestarts: number;
  /** How old the oldest live figures are, ms: 0 when read for this call, else since a worker's last heartbeat answer. */
  ageMs: number;
}

/** What a server's workers that are gone had counted. */
interface Retired {
  outcomes: OutcomeCounts;
  latency: LatencyHistogram;
  bytesIn: number;
  bytesOut: number;
  subrequests: number;
  subrequestBytes: number;
  egressRefusals: number;
}

const zero = (): OutcomeCounts => Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;

/** The totals of workers that are gone (so that a server's totals survive restarts) and the restart counts, by httpdid. */
export class StatsBook {
  readonly #retired = new Map<number, Retired>();
  readonly #restarts = new Map<number, number>();

  /**
   * Keeps what a worker that is gone (or no longer hosts the server) last reported (`c`, if it reported
   * anything), plus `crashed` requests it lost by dying while running them.
   */
  retire(httpdid: number, c: ServerCounters | undefined, crashed: number): void {
    const acc = this.#retired.get(httpdid) ?? { outcomes: zero(), latency: emptyHistogram(), bytesIn: 0, bytesOut: 0, subrequests: 0, subrequestBytes: 0, egressRefusals: 0 };
    acc.outcomes.crashed += crashed;
    if (c !== undefined) {
      for (const o of OUTCOMES) acc.outcomes[o] += c.outcomes[o];
      mergeInto(acc.latency, c.latency);
      acc.bytesIn += c.bytesIn;
      acc.bytesOut += c.bytesOut;
      acc.subrequests += c.subrequests;
      acc.subrequestBytes += c.subrequestBytes;
      acc.egressRefusals += c.egressRefusals;
    }
    this.#retired.set(httpdid, acc);
  }

  /** Counts one replacement of a worker that hosted the server. */
  restarted(httpdid: number): void {
    this.#restarts.set(httpdid, (this.#restarts.get(httpdid) ?? 0) + 1);
  }

  /** The server's totals: retired plus `live`, the last reports of the workers hosting it now. */
  total(httpdid: number, live: Iterable<ServerCounters>): Omit<ServerStats, 'ageMs'> {
    const r = this.#retired.get(httpdid);
    const total: Omit<ServerStats, 'ageMs'> = {
      outcomes: { ...(r?.outcomes ?? zero()) },
      latency: emptyHistogram(),
      bytesIn: r?.bytesIn ?? 0,
      bytesOut: r?.bytesOut ?? 0,
      subrequests: r?.subrequests ?? 0,
      subrequestBytes: r?.subrequestBytes ?? 0,
      egressRefusals: r?.egressRefusals ?? 0,
      heapUsed: 0,
      workerRestarts: this.#restarts.get(httpdid) ?? 0,
    };
    if (r !== undefined) mergeInto(total.latency, r.latency);
    for (const c of live) {
      for (const o of OUTCOMES) total.outcomes[o] += c.outcomes[o];
      mergeInto(total.latency, c.latency);
      total.bytesIn += c.bytesIn;
      total.bytesOut += c.bytesOut;
      total.subrequests += c.subrequests;
      total.subrequestBytes += c.subrequestBytes;
      total.egressRefusals += c.egressRefusals;
      total.heapUsed += c.heapUsed;
    }
    return total;
  }

  /** Drops everything about a server that is gone for good. */
  forget(httpdid: number): void {
    this.#retired.delete(httpdid);
    this.#restarts.delete(httpdid);
  }
}
