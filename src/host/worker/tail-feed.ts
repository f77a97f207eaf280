// The worker's side of `tail`: which servers are tailed (told by the control process), and their request events, sent once per event-loop turn.

import type { FromWorker, TailEvent } from './protocol.js';

/** Most events of one server kept between two flushes (a flood beyond is counted, not sent). */
export const TAIL_EVENTS_PER_TURN = 1000;

/**
 * Request events for the servers someone tails. Nothing is built or sent for a server no one tails
 * (the set comes from the control process), so the hot path of an untailed server pays one set
 * lookup per request.
 */
export class TailFeed {
  #tailed = new Set<number>();
  readonly #pending = new Map<number, TailEvent[]>();
  readonly #dropped = new Map<number, number>();
  readonly #send: (msg: FromWorker) => void;

  /** @param send sends a message to the control process */
  constructor(send: (msg: FromWorker) => void) {
    this.#send = send;
  }

  /** The servers tailed from now on (the whole set, replacing the last). */
  set(httpdids: readonly number[]): void {
    this.#tailed = new Set(httpdids);
  }

  /** Whether a server is tailed now. */
  has(httpdid: number): boolean {
    return this.#tailed.has(httpdid);
  }

  /** Queues one event of a tailed server, sent at the end of this event-loop turn. */
  add(httpdid: number, event: TailEvent): void {
    if (!this.#tailed.has(httpdid)) return;
    if (this.#pending.size === 0 && this.#dropped.size === 0) setImmediate(() => this.#flush());
    let list = this.#pending.get(httpdid);
    if (list === undefined) this.#pending.set(httpdid, (list = []));
    if (list.length >= TAIL_EVENTS_PER_TURN) this.#dropped.set(httpdid, (this.#dropped.get(httpdid) ?? 0) + 1);
    else list.push(event);
  }

  #flush(): void {
    for (const [httpdid, events] of this.#pending) {
      const dropped = this.#dropped.get(httpdid) ?? 0;
      this.#send(dropped === 0 ? { op: 'tail', httpdid, events } : { op: 'tail', httpdid, events, dropped });
    }
    this.#pending.clear();
    this.#dropped.clear();
  }
}
