// The idle-CPU watchdog of one sandbox: while none of its requests runs, its isolates' CPU time must stay still; code that runs then (V8 tasks and their callbacks, which run outside every call's time limit: at a host entry, or on their own when a background job such as a wasm compilation ends) gets the isolate disposed and replaced.

import { IDLE_CPU_ALLOWANCE, IDLE_CPU_BUDGET_MS, IDLE_CPU_POLL_MS } from '../core/supervision.js';

/** What the watchdog reads of an isolate: isolated-vm's `cpuTime` (ns, live while code runs) and whether it is gone. */
export interface WatchedIsolate {
  readonly isolate: { readonly cpuTime: bigint; readonly isDisposed: boolean };
}

/** What the watchdog reads of its sandbox. */
export interface IdleProbe<T extends WatchedIsolate> {
  /** The instantiated instances to watch now: the one serving and a standby, if any. */
  instances(): Iterable<T>;
  /** A request window is open on `inst`: its CPU time now is a request's, bounded by that request's deadline. */
  busy(inst: T): boolean;
}

/** The watchdog's thresholds (defaults from src/core/supervision.ts). */
export interface IdleBudget {
  /** Poll period, ms. */
  readonly pollMs: number;
  /** Idle CPU time the bucket holds before the watchdog acts, ms. */
  readonly budgetMs: number;
  /** Fraction of wall time the bucket drains by (0–1). */
  readonly allowance: number;
}

const DEFAULT_BUDGET: IdleBudget = { pollMs: IDLE_CPU_POLL_MS, budgetMs: IDLE_CPU_BUDGET_MS, allowance: IDLE_CPU_ALLOWANCE };

/** An isolate's CPU time, ns, or null once it cannot be read (disposed). */
function cpuNs(inst: WatchedIsolate): bigint | null {
  try {
    return inst.isolate.isDisposed ? null : inst.isolate.cpuTime;
  } catch {
    return null;
  }
}

/** What the watchdog knows of one instance since its last window closed. */
interface Watch {
  /** CPU time at the last reading, ns. */
  seenNs: bigint;
  /** performance.now() at the last reading, ms. */
  seenAt: number;
  /** The leaky bucket, ns. */
  bucketNs: number;
  /** CPU time used outside a window since the last one closed, ns. */
  idleNs: number;
}

/**
 * Polls the CPU time of each of a sandbox's instances every `pollMs` (an unref'd timer; a read
 * costs well under a microsecond and never waits for the isolate). Outside a window, the CPU time
 * an instance gains fills a leaky bucket that drains at `allowance` of wall time; past `budgetMs`
 * the watchdog calls `onIdleRun` once for that instance with the CPU time it used outside a
 * window since its last one closed. Inside a window the CPU time is the request's and is not
 * looked at; the sandbox tells the watchdog when a window closes ({@link windowClosed}), so the
 * end of a request is never counted as idle.
 */
export class IdleWatchdog<T extends WatchedIsolate> {
  readonly #probe: IdleProbe<T>;
  readonly #onIdleRun: (inst: T, idleMs: number) => void;
  readonly #budget: IdleBudget;
  readonly #timer: NodeJS.Timeout;
  /** The instances watched, with their figures (none while a window is open on one). */
  #watches = new Map<T, Watch>();
  /** Instances reported: never reported twice. */
  readonly #reported = new WeakSet<T>();

  /**
   * @param probe the sandbox's instances and whether a window is open on one
   * @param onIdleRun called (once per instance) when its idle CPU time is over the budget; `idleMs` is what it used outside a window, ms
   */
  constructor(probe: IdleProbe<T>, onIdleRun: (inst: T, idleMs: number) => void, budget: IdleBudget = DEFAULT_BUDGET) {
    this.#probe = probe;
    this.#onIdleRun = onIdleRun;
    this.#budget = budget;
    this.#timer = setInterval(() => this.#tick(), budget.pollMs);
    this.#timer.unref();
  }

  /** The window open on `inst` just closed: its CPU time from now on is idle time. */
  windowClosed(inst: T): void {
    const ns = cpuNs(inst);
    if (ns !== null) this.#watches.set(inst, { seenNs: ns, seenAt: performance.now(), bucketNs: 0, idleNs: 0 });
  }

  /** Stops polling. */
  close(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    const next = new Map<T, Watch>();
    const now = performance.now();
    for (const inst of this.#probe.instances()) {
      if (this.#reported.has(inst) || this.#probe.busy(inst)) continue;
      const ns = cpuNs(inst);
      if (ns === null) continue;
      const w = this.#watches.get(inst);
      if (w === undefined) {
        // Newly watched, or a window closed without a notice: idle time starts now (never counted against the tenant).
        next.set(inst, { seenNs: ns, seenAt: now, bucketNs: 0, idleNs: 0 });
        continue;
      }
      const used = Number(ns - w.seenNs);
      w.bucketNs = Math.max(0, w.bucketNs + used - (now - w.seenAt) * 1e6 * this.#budget.allowance);
      w.idleNs += used;
      w.seenNs = ns;
      w.seenAt = now;
      if (w.bucketNs > this.#budget.budgetMs * 1e6) {
        this.#reported.add(inst);
        this.#onIdleRun(inst, Math.round(w.idleNs / 1e6));
      } else {
        next.set(inst, w);
      }
    }
    this.#watches = next;
  }
}
