// When a slot tries again to replace a worker that keeps dying: at once the first time, then a back-off that doubles, reset by a replacement that stays up.

import { RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_MIN_MS, RESTART_STABLE_MS } from '../../core/supervision.js';

/**
 * The restart back-off of one pool slot. The first replacement after a stable run is immediate
 * (from the spare); each further attempt waits twice as long as the one before, from
 * {@link RESTART_BACKOFF_MIN_MS} up to {@link RESTART_BACKOFF_MAX_MS}; a replacement still up after
 * {@link RESTART_STABLE_MS} starts the sequence over.
 */
export class RestartBackoff {
  /** The next wait, ms ({@link RESTART_BACKOFF_MIN_MS} means "none yet": the next attempt is immediate). */
  #delay = RESTART_BACKOFF_MIN_MS;

  /** The wait before the next start attempt, ms (0 for the first one after a stable run); each call counts one attempt. */
  next(): number {
    const wait = this.#delay === RESTART_BACKOFF_MIN_MS ? 0 : this.#delay;
    this.#delay = Math.min(this.#delay * 2, RESTART_BACKOFF_MAX_MS);
    return wait;
  }

  /** A replacement started: if `stillUp()` holds after {@link RESTART_STABLE_MS}, the back-off starts over. */
  started(stillUp: () => boolean): void {
    setTimeout(() => {
      if (stillUp()) this.#delay = RESTART_BACKOFF_MIN_MS;
    }, RESTART_STABLE_MS).unref();
  }
}
