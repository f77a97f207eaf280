// Handlers' console output in the control process: the last lines of each server (a ring buffer) and the followers of `logs?follow=1`.

/** One console line of a handler, as `GET /servers/:httpdid/logs` shows it. */
export interface ConsoleLine {
  /** ISO 8601 time the line reached the control process. */
  time: string;
  level: string;
  message: string;
}

/** Receives a server's console lines as they arrive ({@link ConsoleLog.follow}). */
export interface ConsoleFollower {
  /** A new console line. Called synchronously as lines arrive: must not block. */
  line(line: ConsoleLine): void;
  /** The server was deleted (or the service is stopping): no more lines will come. */
  end(): void;
}

/** Console lines kept per server (a ring buffer: the oldest go first). */
export const CONSOLE_LINES_KEPT = 1000;

/**
 * The console lines of every server, from the moment its httpdid is allocated (module-level output
 * included) until it is deleted. Lines of a server not {@link open}ed are dropped.
 */
export class ConsoleLog {
  readonly #lines = new Map<number, ConsoleLine[]>();
  readonly #followers = new Map<number, Set<ConsoleFollower>>();

  /** Starts keeping a server's lines (an empty buffer). */
  open(httpdid: number): void {
    this.#lines.set(httpdid, []);
  }

  /** Forgets a server's lines and ends its followers. */
  close(httpdid: number): void {
    this.#lines.delete(httpdid);
    this.#end(httpdid);
  }

  /** Ends every follower of every server (the service is stopping). */
  closeAll(): void {
    for (const id of [...this.#followers.keys()]) this.#end(id);
  }

  /** Lines a worker reported for a server at `time` (ms since the epoch), as `[level, text]`. */
  add(httpdid: number, time: number, lines: ReadonlyArray<readonly [string, string]>): void {
    const kept = this.#lines.get(httpdid);
    if (kept === undefined) return;
    const iso = new Date(time).toISOString();
    for (const [level, message] of lines) kept.push({ time: iso, level, message });
    if (kept.length > CONSOLE_LINES_KEPT) kept.splice(0, kept.length - CONSOLE_LINES_KEPT);
    const followers = this.#followers.get(httpdid);
    if (followers !== undefined) {
      for (const f of followers) for (const [level, message] of lines) f.line({ time: iso, level, message });
    }
  }

  /** The kept lines of a server, oldest first (a copy). */
  lines(httpdid: number): ConsoleLine[] {
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
