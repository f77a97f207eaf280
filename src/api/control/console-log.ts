// A server's log in the control process: its handler's console lines and the requests that did not end ok, the last entries of each server (a ring buffer) and the followers of `logs?follow=1`.

import type { Outcome } from '../../core/outcome.js';
import type { RequestFailure } from '../../host/worker/protocol.js';
import type { ConsoleLines } from '../../sandbox/isolate-instance.js';

/** One console line of a handler, as `GET /servers/:httpdid/logs` shows it (schemas/log-entry.json). */
export interface ConsoleLine {
  readonly kind: 'console';
  /** ISO 8601 time the line reached the control process. */
  readonly time: string;
  readonly level: string;
  readonly message: string;
  /** The request whose handler wrote it, when it is known (see docs/tail.md). */
  readonly requestId?: string;
}

/** A request to the handler that did not end ok, with what its client was not told (schemas/log-entry.json). */
export interface RequestEntry extends RequestFailure {
  readonly kind: 'request';
  /** ISO 8601 time the response was written. */
  readonly time: string;
  readonly level: 'error';
  readonly outcome: Exclude<Outcome, 'ok'>;
}

/** One entry of a server's log. */
export type LogEntry = ConsoleLine | RequestEntry;

/** Receives a server's log entries as they arrive ({@link ConsoleLog.follow}). */
export interface ConsoleFollower {
  /** A new entry. Called synchronously as entries arrive: must not block. */
  line(line: LogEntry): void;
  /** The server was deleted (or the service is stopping): no more lines will come. */
  end(): void;
}

/** Log entries (console lines and requests) kept per server (a ring buffer: the oldest go first). */
export const CONSOLE_LINES_KEPT = 1000;

/**
 * The console lines of every server, from the moment its httpdid is allocated (module-level output
 * included) until it is deleted. Lines of a server not {@link open}ed are dropped.
 */
export class ConsoleLog {
  readonly #lines = new Map<number, LogEntry[]>();
  readonly #followers = new Map<number, Set<ConsoleFollower>>();
  readonly #onClose: (httpdid: number | null) => void;

  /** @param onClose told when a server is closed (its httpdid), or every server (null: the service is stopping) */
  constructor(onClose: (httpdid: number | null) => void = () => {}) {
    this.#onClose = onClose;
  }

  /** Starts keeping a server's lines (an empty buffer). */
  open(httpdid: number): void {
    this.#lines.set(httpdid, []);
  }

  /** Forgets a server's lines and ends its followers. */
  close(httpdid: number): void {
    this.#lines.delete(httpdid);
    this.#end(httpdid);
    this.#onClose(httpdid);
  }

  /** Ends every follower of every server (the service is stopping). */
  closeAll(): void {
    for (const id of [...this.#followers.keys()]) this.#end(id);
    this.#onClose(null);
  }

  /** Lines a worker reported for a server at `time` (ms since the epoch), as `[level, text, requestId?]`. */
  add(httpdid: number, time: number, lines: ConsoleLines): void {
    const kept = this.#lines.get(httpdid);
    if (kept === undefined) return;
    const iso = new Date(time).toISOString();
    const entries = lines.map(
      ([level, message, requestId]): ConsoleLine => (requestId === undefined ? { kind: 'console', time: iso, level, message } : { kind: 'console', time: iso, level, message, requestId }),
    );
    this.#keep(httpdid, kept, entries);
  }

  /** A request of a server that did not end ok, answered at `time` (ms since the epoch). */
  addRequest(httpdid: number, time: number, outcome: Exclude<Outcome, 'ok'>, failure: RequestFailure): void {
    const kept = this.#lines.get(httpdid);
    if (kept === undefined) return;
    const { requestId, method, path, status, detail, stack } = failure;
    const entry: RequestEntry = { kind: 'request', time: new Date(time).toISOString(), level: 'error', requestId, method, path, outcome, status, detail, ...(stack === undefined ? {} : { stack }) };
    this.#keep(httpdid, kept, [entry]);
  }

  #keep(httpdid: number, kept: LogEntry[], entries: readonly LogEntry[]): void {
    for (const e of entries) kept.push(e);
    if (kept.length > CONSOLE_LINES_KEPT) kept.splice(0, kept.length - CONSOLE_LINES_KEPT);
    const followers = this.#followers.get(httpdid);
    if (followers !== undefined) {
      for (const f of followers) for (const e of entries) f.line(e);
    }
  }

  /** The kept entries of a server, oldest first (a copy). */
  lines(httpdid: number): LogEntry[] {
    return [...(this.#lines.get(httpdid) ?? [])];
  }

  /**
   * Calls `follower` with every line of a server from now on, until the server is closed (then
   * `end()`) or the returned function is called. Take {@link lines} in the same tick to get the
   * lines before.
   */
  follow(httpdid: number, follower: ConsoleFollower): () => void {
    let set = this.#followers.get(httpdid);
    if (set === undefined) this.#followers.set(httpdid, (set = new Set()));
    set.add(follower);
    return () => {
      set.delete(follower);
      if (set.size === 0 && this.#followers.get(httpdid) === set) this.#followers.delete(httpdid);
    };
  }

  #end(httpdid: number): void {
    const set = this.#followers.get(httpdid);
    this.#followers.delete(httpdid);
    for (const f of set ?? []) f.end();
  }
}
