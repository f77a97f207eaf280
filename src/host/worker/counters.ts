// Per-server traffic counters of this worker: outcomes, latency, bytes in and out of its sockets, requests in flight, heap used, outbound fetches; read by the heartbeat.

import type { Socket } from 'node:net';
import { emptyHistogram, observe } from '../../core/histogram.js';
import { OUTCOMES, type Outcome } from '../../core/outcome.js';
import type { ServerCounters } from './protocol.js';

/** The counters of one hosted server, cumulative since it was deployed on this worker; per request only plain numbers are incremented. */
export class TrafficCounters {
  /** `bytesIn`/`bytesOut` hold the sockets already closed (live ones are added at snapshot time). */
  readonly #c: ServerCounters = {
    inFlight: 0,
    outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
    latency: emptyHistogram(),
    bytesIn: 0,
    bytesOut: 0,
    heapUsed: 0,
    subrequests: 0,
    subrequestBytes: 0,
    egressRefusals: 0,
  };
  readonly #sockets = new Set<Socket>();

  /** Requests handed to the sandbox and not answered yet. */
  get inFlight(): number {
    return this.#c.inFlight;
  }

  /** A request enters the sandbox; returns whether it is the only one in flight now. */
  started(): boolean {
    return this.#c.inFlight++ === 0;
  }

  /** A request left the sandbox; returns whether none is in flight any more. */
  ended(): boolean {
    return --this.#c.inFlight === 0;
  }

  /** Counts how an answered request ended; `startedAt` is `performance.now()` when its head was in. */
  answered(outcome: Outcome, startedAt: number): void {
    this.#c.outcomes[outcome]++;
    observe(this.#c.latency, performance.now() - startedAt);
  }

  /** Counts a socket's bytes: read live while it is open, kept in the totals once it closes. */
  track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#c.bytesIn += socket.bytesRead;
      this.#c.bytesOut += socket.bytesWritten;
    });
  }

  /** Bytes used by the server's isolate, as last sampled. */
  set heapUsed(bytes: number) {
    this.#c.heapUsed = bytes;
  }

  /** The last heap sample of the server's isolate, bytes. */
  get heapUsed(): number {
    return this.#c.heapUsed;
  }

  /** An outbound fetch started. */
  subrequest(): void {
    this.#c.subrequests++;
  }

  /** Body bytes an outbound fetch sent or received. */
  subrequestBytes(n: number): void {
    this.#c.subrequestBytes += n;
  }

  /** An outbound fetch was refused (policy or limit). */
  egressRefused(): void {
    this.#c.egressRefusals++;
  }

  /** A copy of the counters now, live sockets' bytes included (for a heartbeat answer). */
  snapshot(): ServerCounters {
    const c = this.#c;
    let bytesIn = c.bytesIn;
    let bytesOut = c.bytesOut;
    for (const s of this.#sockets) {
      bytesIn += s.bytesRead;
      bytesOut += s.bytesWritten;
    }
    return {
      inFlight: c.inFlight,
      outcomes: { ...c.outcomes },
      latency: { counts: [...c.latency.counts], sumMs: c.latency.sumMs },
      bytesIn,
      bytesOut,
      heapUsed: c.heapUsed,
      subrequests: c.subrequests,
      subrequestBytes: c.subrequestBytes,
      egressRefusals: c.egressRefusals,
    };
  }
}
