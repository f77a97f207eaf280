// Which servers of this worker want CPU time now: those with requests in their sandbox, and those that started one very recently (for the CPU share: is a neighbour waiting?).

/** A neighbour that started a request this recently still counts as wanting the time, ms. */
const CONTENTION_MS = 1000;

/** The worker-wide view of its servers' activity that the CPU share of each server reads. */
export class Contention {
  /** Servers of this worker with requests in the sandbox now. */
  #serversBusy = 0;
  /** The last two servers that started a request, and when (performance.now(), ms), newest first. */
  readonly #recent: Array<{ httpdid: number; at: number }> = [];

  /** A server's first request in flight entered its sandbox. */
  busy(): void {
    this.#serversBusy++;
  }

  /** A server's last request in flight left its sandbox. */
  idle(): void {
    this.#serversBusy--;
  }

  /** A server started a request. */
  started(httpdid: number): void {
    const now = performance.now();
    const first = this.#recent[0];
    if (first !== undefined && first.httpdid === httpdid) first.at = now;
    else {
      this.#recent.unshift({ httpdid, at: now });
      this.#recent.length = Math.min(this.#recent.length, 2);
    }
  }

  /** Whether another server than `httpdid` (which itself has requests in its sandbox when `ownBusy`) has requests in its sandbox, or started one within {@link CONTENTION_MS}. */
  contended(httpdid: number, ownBusy: boolean): boolean {
    if (this.#serversBusy - (ownBusy ? 1 : 0) > 0) return true;
    const now = performance.now();
    return this.#recent.some((r) => r.httpdid !== httpdid && now - r.at < CONTENTION_MS);
  }
}
