// The isolate a sandbox runs on and its replacement after a fatal outcome (a timeout, a memory overrun, a crash): from a standby kept instantiated once one was needed; CPU time summed over every isolate it has had.

import type { IsolateInstance } from './isolate-instance.js';

/**
 * An isolate's CPU time so far, ns (0 once isolated-vm has disposed it on its own, e.g. over its
 * memory limit). isolated-vm 7 on Node 24 reports real thread CPU time here: a handler blocked in a
 * body read (applySyncPromise) is not charged, one spinning is (`wallTime` counts both).
 */
function runNs(inst: IsolateInstance): bigint {
  try {
    return inst.isolate.cpuTime;
  } catch {
    return 0n;
  }
}

/**
 * The current isolate of one server version. After a fatal outcome the isolate is disposed and
 * replaced; module-level state does not survive that. From the first replacement on, a spare
 * instance is kept instantiated so that the next one is a swap (one more idle isolate's memory,
 * for servers that have had a fatal outcome).
 */
export class IsolateReplacement {
  readonly #instantiate: () => Promise<IsolateInstance>;
  #current: Promise<IsolateInstance>;
  #standby: Promise<IsolateInstance> | null = null;
  #closed = false;
  /** For {@link busyNs}: the instance serving now, the run time last seen of it, and that of the isolates before it, ns. */
  #live: IsolateInstance;
  #liveNs = 0n;
  #retiredNs = 0n;

  /**
   * @param first the instance to serve on first
   * @param instantiate makes a fresh instance of the same version (for replacements and the standby)
   */
  constructor(first: IsolateInstance, instantiate: () => Promise<IsolateInstance>) {
    this.#instantiate = instantiate;
    this.#current = Promise.resolve(first);
    this.#live = first;
  }

  /** The instance to run on: the current one, or the one being instantiated to replace it (rejects if that failed). */
  get current(): Promise<IsolateInstance> {
    return this.#current;
  }

  /** {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #fresh(): Promise<IsolateInstance> {
    const p = this.#instantiate();
    p.catch(() => undefined);
    return p;
  }

  /** Disposes `inst` and, if it is still the current instance, swaps in the standby (or a fresh one), then readies a new standby. */
  replace(inst: IsolateInstance): void {
    if (!inst.isolate.isDisposed) {
      if (inst === this.#live) this.#observe();
      inst.isolate.dispose();
    }
    if (this.#closed) return;
    void this.#current.then(
      (cur) => {
        if (cur !== inst || this.#closed) return;
        const standby = this.#standby;
        this.#standby = null;
        this.#current = standby === null ? this.#fresh() : standby.catch(() => this.#fresh());
        this.#current.catch(() => undefined);
        void this.#current.then(
          (next) => {
            this.#retiredNs += this.#liveNs;
            this.#liveNs = 0n;
            this.#live = next;
            if (!this.#closed && this.#standby === null) this.#standby = this.#fresh();
          },
          () => undefined,
        );
      },
      () => undefined,
    );
  }

  /**
   * Bytes the current isolate uses (V8's used heap plus external memory counted against
   * `memoryMb`); 0 when there is none. Asynchronous: it resolves once the isolate is free to
   * answer (after the handler code running now), without blocking this process meanwhile.
   */
  async heapUsed(): Promise<number> {
    try {
      const inst = await this.#current;
      if (inst.isolate.isDisposed) return 0;
      const s = await inst.isolate.getHeapStatistics();
      return s.used_heap_size + s.externally_allocated_size;
    } catch {
      return 0;
    }
  }

  /**
   * CPU time the isolates have used, ns, summed over every isolate there has been:
   * isolated-vm's `cpuTime` (time blocked in a body read is not CPU and not counted). Live:
   * includes the call running now. Monotonic; an isolate disposed by
   * isolated-vm itself is counted up to its last reading. Cheap enough to sample every few ms.
   */
  get busyNs(): bigint {
    this.#observe();
    return this.#retiredNs + this.#liveNs;
  }

  /** Reads the live isolate's run time while it can be read (isolated-vm may dispose it on its own, e.g. over its memory limit). */
  #observe(): void {
    if (this.#live.isolate.isDisposed) return;
    const ns = runNs(this.#live);
    if (ns > this.#liveNs) this.#liveNs = ns;
  }

  /** Disposes the isolate and the standby; no replacement follows. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const p of [this.#current, this.#standby]) {
      try {
        const inst = await p;
        if (inst !== null && !inst.isolate.isDisposed) inst.isolate.dispose();
      } catch {
        // never instantiated: nothing to dispose
      }
    }
  }
}
