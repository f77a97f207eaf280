// The calls into a sandbox's isolates that have not returned yet, and the waits for them: what a replacement isolate waits for before it serves (a server runs on one isolate at a time).

import { DISPOSED_CALL_WAIT_MS } from '../core/supervision.js';

/**
 * Request calls into a sandbox's isolates not returned yet. One the host abandoned at a dispose
 * returns once its isolate's thread is free: a call inside a built-in V8 cannot interrupt only when
 * the built-in does, its isolate's memory held until then.
 */
export class RunningCalls {
  readonly #calls = new Set<Promise<unknown>>();
  /** Ends the pending {@link stopped} waits. */
  readonly #ends = new Set<() => void>();

  /** Keeps `call` until it returns; returns it. */
  track<T>(call: Promise<T>): Promise<T> {
    this.#calls.add(call);
    const done = (): void => void this.#calls.delete(call);
    call.then(done, done);
    return call;
  }

  /** Resolves once every call running now has returned (never rejects). */
  returned(): Promise<void> {
    return Promise.allSettled([...this.#calls]).then(() => undefined);
  }

  /**
   * Resolves once every call running now has returned, {@link giveUp} was called, or
   * {@link DISPOSED_CALL_WAIT_MS} passed (never rejects): what the replacement of an isolate
   * disposed under a running call waits for.
   */
  stopped(): Promise<void> {
    if (this.#calls.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.#ends.delete(end);
        resolve();
      };
      const timer = setTimeout(end, DISPOSED_CALL_WAIT_MS);
      this.#ends.add(end);
      void this.returned().then(end);
    });
  }

  /** isolated-vm gave up on an isolate: its calls never return, and no wait for them goes on. */
  giveUp(): void {
    for (const end of [...this.#ends]) end();
  }
}
