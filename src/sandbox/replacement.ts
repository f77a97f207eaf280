// The isolate a sandbox runs on and its replacement after a fatal outcome (a timeout, a memory overrun, a crash): from a standby kept instantiated once one was needed; CPU time summed over every isolate it has had.

import { HEAP_SAMPLE_TIMEOUT_MS } from '../core/supervision.js';
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
  /** The standby once it is instantiated (watched by the idle-CPU watchdog like the live one). */
  #standbyReady: IsolateInstance | null = null;
  #closed = false;
  /** {@link abandon} was called: nothing is disposed, ever. */
  #abandoned = false;
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

  /** Starts instantiating a new standby. */
  #newStandby(): void {
    const p = this.#fresh();
    this.#standby = p;
    void p.then(
      (inst) => {
        if (this.#standby === p) this.#standbyReady = inst;
      },
      () => undefined,
    );
  }

  /**
   * Disposes `inst` and, if it is still the current instance, swaps in the standby (or a fresh one),
   * then readies a new standby. The standby itself (the watchdog saw it run while idle) is replaced
   * by a new standby, its CPU time charged.
   * @param stopped resolves once the calls still running on `inst` have returned (never rejects):
   *   the replacement serves only then, so that a server never has two isolates running at once (a
   *   call V8 cannot interrupt holds its isolate's memory, disposed or not, until it returns)
   */
  replace(inst: IsolateInstance, stopped?: Promise<void>): void {
    if (inst === this.#standbyReady) {
      this.#retiredNs += runNs(inst);
      inst.isolate.dispose();
      this.#standby = null;
      this.#standbyReady = null;
      if (!this.#closed) this.#newStandby();
      return;
    }
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
        this.#standbyReady = null;
        const next = standby === null ? this.#fresh() : standby.catch(() => this.#fresh());
        this.#current = stopped === undefined ? next : Promise.all([next, stopped]).then(([n]) => n);
        this.#current.catch(() => undefined);
        void this.#current.then(
          (next) => {
            this.#retiredNs += this.#liveNs;
            this.#liveNs = 0n;
            this.#live = next;
            if (!this.#closed && this.#standby === null) this.#newStandby();
          },
          () => undefined,
        );
      },
      () => undefined,
    );
  }

  /**
   * The instance serving now: the current one once it is ready (until then the one it replaces,
   * possibly disposed). Read synchronously, for the idle-CPU watchdog.
   */
  get live(): IsolateInstance {
    return this.#live;
  }

  /** Isolates this version holds or is instantiating: the current one and the standby, if any (0 once closed or abandoned; for the worker's memory budget). */
  get count(): number {
    return this.#closed ? 0 : this.#standby === null ? 1 : 2;
  }

  /** Every instantiated isolate of this version not yet disposed: the live one and the standby, if any (for the idle-CPU watchdog). */
  get instances(): IsolateInstance[] {
    const out = [this.#live];
    if (this.#standbyReady !== null) out.push(this.#standbyReady);
    return out.filter((i) => !i.isolate.isDisposed);
  }

  /**
   * Bytes the live isolate uses (V8's used heap plus external memory counted against `memoryMb`),
   * or null when there is no figure (disposed, or no answer within {@link HEAP_SAMPLE_TIMEOUT_MS}).
   * This enters the isolate, and V8 runs the tasks it has pending right after, outside any
   * call's time limit: the caller takes it only while no request runs, under the idle-CPU
   * watchdog. Never blocks this process.
   */
  async heapUsed(): Promise<number | null> {
    const inst = this.#live;
    if (this.#closed || inst.isolate.isDisposed) return null;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), HEAP_SAMPLE_TIMEOUT_MS);
      timer.unref();
    });
    const sample = inst.isolate.getHeapStatistics().then(
      (s) => s.used_heap_size + s.externally_allocated_size,
      () => null,
    );
    try {
      return await Promise.race([sample, late]);
    } finally {
      clearTimeout(timer);
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

  /**
   * Gives up on every isolate without disposing any (isolated-vm lost control of one: a dispose
   * could wait on its thread); no replacement follows. The process is retired soon after.
   */
  abandon(): void {
    this.#closed = true;
    this.#abandoned = true;
  }

  /** Disposes the isolate and the standby; no replacement follows. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#abandoned) return;
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
