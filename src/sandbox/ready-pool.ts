// Ready isolates: an isolate with its context, heap guard and evaluated prelude, made before a deploy needs it, so that a deploy only compiles and evaluates the tenant's module (a small pool per worker).

import ivm from 'isolated-vm';
import { READY_POOL_START_MS, READY_REFILL_DELAY_MS } from '../core/supervision.js';
import { GuestLinker } from './guest-linker.js';
import { BOOTSTRAP, type ConstantLimits, constantsSource, PRELUDE } from './guest-source.js';
import { guardHeap } from './heap-guard.js';
import { installUrlLoader } from './url-loader.js';

/** The limits a ready isolate is made for: its memory limit, the constants its prelude sees, and the time limit of the prelude's evaluation. */
export type ReadyLimits = ConstantLimits & { readonly timeoutMs: number };

/** Called when isolated-vm loses control of `isolate` (see SandboxHooks.onCatastrophicError). */
export type LostHook = (message: string, isolate: ivm.Isolate) => void;

/** What an isolate must have been made with to serve `limits`: the memory limit and the constants module (which holds every other limit the prelude reads). */
export function readyKey(limits: ConstantLimits): string {
  return constantsSource(limits);
}

/**
 * An isolate prepared for one tenant version: context created, heap guard installed, the prelude
 * (with the guest modules it imports) evaluated, its URL loader installed and the bootstrap module
 * compiled. No tenant code has run in it. It is claimed once, by the version that instantiates on it.
 */
export class ReadyIsolate {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  readonly guest: GuestLinker;
  readonly boot: ivm.Module;
  #onLost: LostHook;

  private constructor(isolate: ivm.Isolate, context: ivm.Context, guest: GuestLinker, boot: ivm.Module, onLost: LostHook) {
    this.isolate = isolate;
    this.context = context;
    this.guest = guest;
    this.boot = boot;
    this.#onLost = onLost;
  }

  /**
   * Makes one ready isolate (about as long as a fresh instantiation without the tenant's module).
   * @param onLost what to do if isolated-vm loses control of it before it is claimed
   */
  static async prepare(limits: ReadyLimits, onLost: LostHook): Promise<ReadyIsolate> {
    // Whoever holds it when isolated-vm loses control: `onLost` until it is made, then its claimer.
    let ready: ReadyIsolate | undefined;
    const isolate = new ivm.Isolate({ memoryLimit: limits.memoryMb, onCatastrophicError: (m) => (ready === undefined ? onLost : ready.#onLost)(m, isolate) });
    try {
      const context = await isolate.createContext();
      // Before any code runs in it: V8 may raise this isolate's heap limit to twice memoryMb, not by 1 GiB.
      await guardHeap(context);
      // The prelude (with the guest modules it imports) is evaluated before any tenant code runs.
      const guest = new GuestLinker(isolate, limits);
      const prelude = await guest.module(PRELUDE);
      await prelude.instantiate(context, guest.resolve);
      await prelude.evaluate({ timeout: limits.timeoutMs });
      await installUrlLoader(prelude, limits.timeoutMs);
      const boot = await guest.module(BOOTSTRAP);
      ready = new ReadyIsolate(isolate, context, guest, boot, onLost);
      return ready;
    } catch (err) {
      if (!isolate.isDisposed) isolate.dispose();
      throw err;
    }
  }

  /** Hands the isolate to its version: from now on a lost isolate is reported to `onLost`. */
  claim(onLost: LostHook): void {
    this.#onLost = onLost;
  }

  /** Disposes an isolate never claimed. */
  dispose(): void {
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

/**
 * A few ready isolates for the limits most deploys use (a worker's defaults). `take` hands one out
 * when the limits match; the pool refills {@link READY_REFILL_DELAY_MS} after, so that the refill
 * (about the CPU of an instantiation) does not compete with the deploy that took one; it first fills
 * {@link READY_POOL_START_MS} after it is made, after a worker's start-up and the servers it restores.
 */
export class ReadyPool {
  readonly #limits: ReadyLimits;
  readonly #key: string;
  readonly #size: number;
  readonly #onLost: LostHook;
  readonly #ready: ReadyIsolate[] = [];
  #preparing: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #taken = 0;

  /**
   * @param limits the limits its isolates are made for
   * @param size how many ready isolates it keeps, count (0: none)
   * @param onLost what to do if isolated-vm loses control of an isolate not yet claimed
   * @param startMs when it first fills, ms from now
   */
  constructor(limits: ReadyLimits, size: number, onLost: LostHook, startMs = READY_POOL_START_MS) {
    this.#limits = limits;
    this.#key = readyKey(limits);
    this.#size = size;
    this.#onLost = onLost;
    this.#schedule(startMs);
  }

  /** A ready isolate for `limits`, or null when none is ready or the pool's were made for other limits. */
  take(limits: ConstantLimits): ReadyIsolate | null {
    if (readyKey(limits) !== this.#key) return null;
    const ready = this.#ready.shift() ?? null;
    if (ready !== null) this.#taken++;
    this.#schedule(READY_REFILL_DELAY_MS);
    return ready;
  }

  /** Ready isolates held now, count. */
  get size(): number {
    return this.#ready.length;
  }

  /** Ready isolates handed out so far, count. */
  get taken(): number {
    return this.#taken;
  }

  /** Resolves once the pool is full (or closed), or no longer preparing after a failure; for tests and benchmarks. */
  async settled(): Promise<void> {
    while (!this.#closed && (this.#timer !== null || this.#preparing !== null)) {
      if (this.#preparing !== null) await this.#preparing;
      else await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Disposes the ready isolates; the pool makes no more. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    for (const r of this.#ready.splice(0)) r.dispose();
  }

  #schedule(delayMs: number): void {
    if (this.#closed || this.#timer !== null || this.#preparing !== null || this.#ready.length >= this.#size) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#fill();
    }, delayMs);
    this.#timer.unref();
  }

  // One at a time: each is a few ms of CPU, and requests on the worker go between them.
  #fill(): void {
    if (this.#closed || this.#ready.length >= this.#size) return;
    this.#preparing = ReadyIsolate.prepare(this.#limits, this.#onLost).then(
      (ready) => {
        this.#preparing = null;
        if (this.#closed) return ready.dispose();
        this.#ready.push(ready);
        this.#schedule(READY_REFILL_DELAY_MS);
      },
      () => {
        // A worker that cannot make an isolate will fail its deploys with the reason; the pool stops trying.
        this.#preparing = null;
        this.#closed = true;
      },
    );
  }
}

let pool: ReadyPool | null = null;

/**
 * Gives this process a ready-isolate pool (the worker's main does, for its default limits); replaces (and closes) any earlier one.
 * @param startMs when it first fills, ms from now
 */
export function usePool(limits: ReadyLimits, size: number, onLost: LostHook, startMs = READY_POOL_START_MS): ReadyPool {
  pool?.close();
  pool = new ReadyPool(limits, size, onLost, startMs);
  return pool;
}

/** Closes this process's pool, if any. */
export function closePool(): void {
  pool?.close();
  pool = null;
}

/** A ready isolate for `limits`: from the pool when it has one made for them, else prepared now. */
export function readyIsolate(limits: ReadyLimits, onLost: LostHook): Promise<ReadyIsolate> {
  const ready = pool?.take(limits) ?? null;
  if (ready === null) return ReadyIsolate.prepare(limits, onLost);
  ready.claim(onLost);
  return Promise.resolve(ready);
}
