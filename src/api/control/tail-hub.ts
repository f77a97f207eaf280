// A server's tail in the control process: per-request events from its workers (sent only while someone tails it), each with the console lines its handler wrote, and the followers of `GET /servers/:httpdid/tail`.

import type { TailEvent } from '../../host/worker/protocol.js';
import type { ConsoleLines } from '../../sandbox/isolate-instance.js';

/** One console line inside a request's tail entry. */
export interface TailLog {
  /** ISO 8601 time the line reached the control process. */
  readonly time: string;
  readonly level: string;
  readonly message: string;
}

/** One request, as the tail shows it (schemas/tail-entry.json): the worker's event, its time as ISO 8601, with the console lines its handler wrote. */
export interface TailRequest extends Omit<TailEvent, 'time'> {
  readonly kind: 'request';
  /** ISO 8601 time its response was written. */
  readonly time: string;
  /** The console lines its handler wrote, oldest first. */
  readonly logs: readonly TailLog[];
}

/** A console line tied to no request (module evaluation, async work of several requests at once), or whose request's entry never came. */
export interface TailConsole {
  readonly kind: 'console';
  readonly time: string;
  readonly level: string;
  readonly message: string;
  readonly requestId?: string;
}

/** One entry of a tail. */
export type TailEntry = TailRequest | TailConsole;

/** Receives a server's tail ({@link TailHub.follow}). Called synchronously: must not block. */
export interface TailFollower {
  entry(e: TailEntry): void;
  /** A worker dropped `n` request events (more than it sends per event-loop turn). */
  dropped(n: number): void;
  /** The server was deleted, or the service is stopping. */
  end(why: 'deleted' | 'stopping'): void;
}

/** How long console lines tied to a request wait for its entry before they are shown on their own, ms. */
export const TAIL_HOLD_MS = 5000;

/** Most console lines held for one server's requests; beyond, lines are shown on their own at once. */
export const TAIL_HELD_LINES = 1000;

interface Held {
  readonly logs: TailLog[];
  readonly timer: NodeJS.Timeout;
}

/**
 * The tails of every server. A server is tailed while it has a follower: `onTailed` is told the
 * whole set each time it changes (the workers then send that server's request events).
 */
export class TailHub {
  readonly #followers = new Map<number, Set<TailFollower>>();
  /** Console lines of each server waiting for their request's entry, by request id. */
  readonly #held = new Map<number, Map<string, Held>>();
  readonly #heldLines = new Map<number, number>();
  readonly #onTailed: (httpdids: readonly number[]) => Promise<void>;
  readonly #holdMs: number;
  /** Settles once the workers know the last set of tailed servers. */
  #told: Promise<void> = Promise.resolve();

  /**
   * @param onTailed told the servers tailed now, each time that set changes; resolves once the workers know
   * @param holdMs how long console lines tied to a request wait for its entry, ms
   */
  constructor(onTailed: (httpdids: readonly number[]) => Promise<void>, holdMs: number = TAIL_HOLD_MS) {
    this.#onTailed = onTailed;
    this.#holdMs = holdMs;
  }

  #tell(): void {
    this.#told = this.#onTailed([...this.#followers.keys()]);
  }

  /** Whether someone tails a server now. */
  tailed(httpdid: number): boolean {
    return this.#followers.has(httpdid);
  }

  /**
   * Sends `follower` a server's entries from now on, until it is closed (then `end`) or `stop` is
   * called. `ready` settles once every worker tails the server: a request answered after it is in the tail.
   */
  follow(httpdid: number, follower: TailFollower): { readonly stop: () => void; readonly ready: Promise<void> } {
    let set = this.#followers.get(httpdid);
    if (set === undefined) {
      this.#followers.set(httpdid, (set = new Set()));
      this.#tell();
    }
    set.add(follower);
    const stop = (): void => {
      if (!set.delete(follower) || set.size > 0 || this.#followers.get(httpdid) !== set) return;
      this.#followers.delete(httpdid);
      this.#forget(httpdid);
      this.#tell();
    };
    return { stop, ready: this.#told };
  }

  /** Console lines a worker reported for a server at `time` (ms since the epoch): those tied to a request wait for its entry. */
  console(httpdid: number, time: number, lines: ConsoleLines): void {
    if (!this.#followers.has(httpdid)) return;
    const iso = new Date(time).toISOString();
    for (const [level, message, requestId] of lines) {
      if (requestId === undefined || (this.#heldLines.get(httpdid) ?? 0) >= TAIL_HELD_LINES) {
        this.#emit(httpdid, requestId === undefined ? { kind: 'console', time: iso, level, message } : { kind: 'console', time: iso, level, message, requestId });
        continue;
      }
      let held = this.#held.get(httpdid);
      if (held === undefined) this.#held.set(httpdid, (held = new Map()));
      let h = held.get(requestId);
      if (h === undefined) {
        const timer = setTimeout(() => this.#release(httpdid, requestId), this.#holdMs);
        timer.unref();
        held.set(requestId, (h = { logs: [], timer }));
      }
      h.logs.push({ time: iso, level, message });
      this.#heldLines.set(httpdid, (this.#heldLines.get(httpdid) ?? 0) + 1);
    }
  }

  /** Request events a worker reported for a server; `dropped` more were not sent. */
  requests(httpdid: number, events: readonly TailEvent[], dropped = 0): void {
    if (!this.#followers.has(httpdid)) return;
    for (const e of events) {
      const h = this.#take(httpdid, e.requestId);
      const entry: TailRequest = {
        kind: 'request',
        time: new Date(e.time).toISOString(),
        requestId: e.requestId,
        method: e.method,
        path: e.path,
        status: e.status,
        outcome: e.outcome,
        durationMs: e.durationMs,
        bytesIn: e.bytesIn,
        bytesOut: e.bytesOut,
        ...(e.detail === undefined ? {} : { detail: e.detail }),
        ...(e.stack === undefined ? {} : { stack: e.stack }),
        logs: h?.logs ?? [],
      };
      this.#emit(httpdid, entry);
    }
    if (dropped > 0) for (const f of this.#followers.get(httpdid) ?? []) f.dropped(dropped);
  }

  /** The server was deleted: its held lines are shown, its followers ended. */
  close(httpdid: number): void {
    this.#end(httpdid, 'deleted');
  }

  /** The service is stopping: every follower is ended. */
  closeAll(): void {
    for (const id of [...this.#followers.keys()]) this.#end(id, 'stopping');
  }

  #end(httpdid: number, why: 'deleted' | 'stopping'): void {
    const set = this.#followers.get(httpdid);
    if (set === undefined) return;
    for (const id of [...(this.#held.get(httpdid)?.keys() ?? [])]) this.#release(httpdid, id);
    this.#followers.delete(httpdid);
    this.#forget(httpdid);
    this.#tell();
    for (const f of set) f.end(why);
  }

  #take(httpdid: number, requestId: string): Held | undefined {
    const held = this.#held.get(httpdid);
    const h = held?.get(requestId);
    if (held === undefined || h === undefined) return undefined;
    clearTimeout(h.timer);
    held.delete(requestId);
    this.#heldLines.set(httpdid, (this.#heldLines.get(httpdid) ?? 0) - h.logs.length);
    return h;
  }

  /** A request's entry did not come in time: its lines are shown on their own. */
  #release(httpdid: number, requestId: string): void {
    const h = this.#take(httpdid, requestId);
    for (const l of h?.logs ?? []) this.#emit(httpdid, { kind: 'console', ...l, requestId });
  }

  #forget(httpdid: number): void {
    for (const h of this.#held.get(httpdid)?.values() ?? []) clearTimeout(h.timer);
    this.#held.delete(httpdid);
    this.#heldLines.delete(httpdid);
  }

  #emit(httpdid: number, e: TailEntry): void {
    for (const f of this.#followers.get(httpdid) ?? []) f.entry(e);
  }
}
