// The worker's RSS backstop: polls the process's resident set; over its budget, resets the isolate of the server to blame, and asks for the worker's retirement if that does not bring it back, before the kernel's OOM killer takes the worker and every neighbour with it.

import {
  RSS_BASE_MARGIN_MB,
  RSS_BLAME_MIN_GROWTH_MB,
  RSS_GROWTH_HALF_LIFE_MS,
  RSS_GROWTH_PER_CPU_MS_MB,
  RSS_ISOLATE_FACTOR,
  RSS_MIN_POLL_MS,
  RSS_POLL_MS,
  RSS_RUNAWAY_FACTOR,
  RSS_SETTLE_MS,
  RSS_STOP_WAIT_MS,
} from '../../core/supervision.js';

const MIB = 1024 * 1024;

/** What the backstop reads of, and does to, one hosted server (HostedServer). */
export interface BackstopServer {
  readonly httpdid: number;
  /** CPU time its isolates have used, ns (monotonic). */
  readonly busyNs: bigint;
  /** The last heap sample of its serving isolate, bytes. */
  readonly heapUsed: number;
  /** What its isolates may hold, MiB (`memoryMb` per isolate hosted). */
  isolateMemoryMb(): number;
  /** Disposes and replaces its isolates, answering their requests `memory` with `detail`; null if there was none, else resolved once the calls running on them returned. */
  resetMemory(detail: string): Promise<void> | null;
}

/** One action of the backstop, for the control process's log. */
export interface BackstopEvent {
  readonly httpdid: number;
  /** `reset`: the server's isolates were reset; `retire`: the worker is to be retired, the server blamed. */
  readonly action: 'reset' | 'retire';
  /** The resident set then, MiB. */
  readonly rssMb: number;
  /** The budget then, MiB. */
  readonly budgetMb: number;
}

/** What the backstop reads and calls in its worker. */
export interface BackstopHooks {
  /** The servers hosted now. */
  servers(): Iterable<BackstopServer>;
  /** How many servers are being compiled now (a deploy or a prepared version whose module evaluation may be running, not yet among `servers()`). */
  compiling(): number;
  /** The process's resident set size now, bytes (`process.memoryUsage.rss`). */
  rss(): number;
  /** Tells the control process what the backstop did (a warn log line). */
  report(e: BackstopEvent): void;
  /** A reset did not bring the resident set back under the budget (or there was nothing to reset): the worker must be retired, `httpdid` blamed. */
  retire(httpdid: number, message: string): void;
}

/** The backstop's figures (defaults from src/core/supervision.ts). */
export interface BackstopOptions {
  /** Fixed budget, MiB; 0: automatic (idle RSS + `baseMarginMb` + `isolateFactor` × `memoryMb` per isolate). */
  readonly limitMb: number;
  /** Longest poll period (far from the budget), ms. */
  readonly pollMs: number;
  /** Shortest poll period (near the budget), ms. */
  readonly minPollMs: number;
  /** How long the resident set may stay over the budget once the reset isolate's calls returned, ms. */
  readonly settleMs: number;
  /** Longest wait for the reset isolate's calls to return, ms. */
  readonly stopWaitMs: number;
  /** While waiting, a resident set past this multiple of the budget retires the worker at once. */
  readonly runawayFactor: number;
  /** The automatic budget's margin over the idle resident set, MiB. */
  readonly baseMarginMb: number;
  /** The automatic budget's allowance per isolate, in multiples of its `memoryMb`. */
  readonly isolateFactor: number;
  /** Half-life of the growth attributed to servers, ms. */
  readonly growthHalfLifeMs: number;
  /** The most growth attributed to a server per ms of its isolates' CPU time, MiB. */
  readonly growthPerCpuMsMb: number;
  /** Growth from which a server is blamed for it, MiB (below, the largest heap sample is). */
  readonly blameMinGrowthMb: number;
}

/** The default figures, with the operator's fixed budget (`workerRssLimitMb`; 0: automatic). */
export function backstopOptions(limitMb: number): BackstopOptions {
  return {
    limitMb,
    pollMs: RSS_POLL_MS,
    minPollMs: RSS_MIN_POLL_MS,
    settleMs: RSS_SETTLE_MS,
    stopWaitMs: RSS_STOP_WAIT_MS,
    runawayFactor: RSS_RUNAWAY_FACTOR,
    baseMarginMb: RSS_BASE_MARGIN_MB,
    isolateFactor: RSS_ISOLATE_FACTOR,
    growthHalfLifeMs: RSS_GROWTH_HALF_LIFE_MS,
    growthPerCpuMsMb: RSS_GROWTH_PER_CPU_MS_MB,
    blameMinGrowthMb: RSS_BLAME_MIN_GROWTH_MB,
  };
}

/** What the client and the tenant's console are told (no figures: the worker's memory is not the tenant's to see). */
export const BACKSTOP_DETAIL = "the worker's memory went over its budget while this server held the most";

/** After a reset: whom, the budget then (MiB), when (ms), and when its calls were first seen returned (ms, null until then). */
interface Settling {
  readonly kind: 'settle';
  readonly httpdid: number;
  readonly budgetMb: number;
  readonly at: number;
  stopped: boolean;
  stoppedSeenAt: number | null;
}

type State = { readonly kind: 'watch' } | Settling | { readonly kind: 'done' };

/**
 * The last guard of a worker's memory, for routes to host memory not guarded inside the isolate.
 * It reads the resident set and each server's isolate CPU time every `pollMs` (an unref'd timer);
 * near the budget it also looks at the resident set in between, as often as a thread filling pages
 * at `growthPerCpuMsMb` per ms could cross the headroom left (never more often than `minPollMs`),
 * and acts at once when it is over (the growth since the last full poll is split as usual).
 * Over the budget it blames one server: the one the RSS grew most under (growth between two polls
 * is split between the servers in proportion to the CPU time their isolates used meanwhile, at most
 * `growthPerCpuMsMb` per ms of it, halved every `growthHalfLifeMs`) plus its heap sample, once some
 * server's growth is `blameMinGrowthMb` or more; else the one with the largest heap sample. It resets that server's isolates (requests answered
 * 503 `memory`, like any memory overrun) and acts on nothing else until the resident set is back
 * under the budget of that moment (hysteresis: a budget raised by the replacement's standby does
 * not re-arm it). It asks for the worker's retirement, and stops, when the resident set is still
 * over the budget `settleMs` after the reset isolate's calls returned, when they have not returned
 * within `stopWaitMs`, when it passes `runawayFactor` × the budget meanwhile, or when the server
 * to blame has no isolate to reset.
 */
export class RssBackstop {
  readonly #hooks: BackstopHooks;
  readonly #opts: BackstopOptions;
  /** The resident set when the backstop started (the worker's idle RSS), MiB. */
  readonly idleMb: number;
  #state: State = { kind: 'watch' };
  #timer: NodeJS.Timeout | null = null;
  #lastRss: number;
  #lastAt: number;
  /** Each server's isolate CPU time at the last poll, ns. */
  #lastBusy = new Map<number, bigint>();
  /** RSS growth attributed to each server, bytes (decaying). */
  readonly #growth = new Map<number, number>();

  /** @param now performance.now() at start, ms (injected by tests) */
  constructor(hooks: BackstopHooks, opts: BackstopOptions, now: number = performance.now()) {
    this.#hooks = hooks;
    this.#opts = opts;
    this.#lastRss = hooks.rss();
    this.#lastAt = now;
    this.idleMb = this.#lastRss / MIB;
  }

  /** Starts polling (every `pollMs` at most, sooner near the budget: {@link RssBackstop.nextPollMs}). */
  start(): void {
    if (this.#timer !== null || this.#state.kind === 'done') return;
    this.#schedule(this.#opts.pollMs);
  }

  /** Stops polling. */
  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * The wait before the next poll, ms: the time a thread filling `growthPerCpuMsMb` per ms takes to
   * cross the headroom left under the budget, within [`minPollMs`, `pollMs`]; `minPollMs` while over it.
   * @param rssMb the resident set now, MiB
   * @param budgetMb the budget now, MiB
   */
  nextPollMs(rssMb: number, budgetMb: number): number {
    const headroomMs = (budgetMb - rssMb) / this.#opts.growthPerCpuMsMb;
    return Math.min(this.#opts.pollMs, Math.max(this.#opts.minPollMs, headroomMs));
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const next = this.check(performance.now());
      if (this.#state.kind !== 'done') this.#schedule(next);
    }, ms);
    this.#timer.unref();
  }

  /** The budget now, MiB: the fixed one, or idle RSS + margin + factor × `memoryMb` of every isolate hosted. */
  budgetMb(servers: Iterable<BackstopServer> = this.#hooks.servers()): number {
    if (this.#opts.limitMb > 0) return this.#opts.limitMb;
    let isolates = 0;
    for (const s of servers) isolates += s.isolateMemoryMb();
    return this.idleMb + this.#opts.baseMarginMb + this.#opts.isolateFactor * isolates;
  }

  /**
   * One poll (called by the timer; by tests with their own clock and RSS).
   * @param now performance.now(), ms
   * @returns the wait before the next poll, ms
   */
  check(now: number): number {
    if (this.#state.kind === 'done') return this.#opts.pollMs;
    const servers = [...this.#hooks.servers()];
    const rss = this.#hooks.rss();
    const budgetMb = this.budgetMb(servers);
    // Between two full polls (every pollMs), a look only: under the budget, nothing is accounted, so
    // the growth is split between the servers over the same periods as without the quick looks.
    const watching = this.#state.kind === 'watch';
    if ((watching && rss / MIB > budgetMb) || now - this.#lastAt >= this.#opts.pollMs) this.#act(servers, rss, budgetMb, now);
    // After a reset, every pollMs as before: the settling is judged over the same periods.
    return watching ? this.nextPollMs(rss / MIB, budgetMb) : this.#opts.pollMs;
  }

  /** What one poll does with its readings. */
  #act(servers: readonly BackstopServer[], rss: number, budgetMb: number, now: number): void {
    const rssMb = rss / MIB;
    const state = this.#state;
    // While a server is compiled, the growth its module evaluation causes cannot be split fairly (it is
    // not among the servers yet, and its allowance is not in the budget): the poll holds its figures
    // until the server is seen, when all of its CPU time counts, unless the growth is a runaway.
    if (state.kind === 'watch' && this.#hooks.compiling() > 0 && rssMb <= this.#opts.runawayFactor * budgetMb) return;
    this.#account(servers, rss, now);
    if (state.kind === 'settle') {
      this.#settle(state, rssMb, budgetMb, now);
      return;
    }
    if (rssMb <= budgetMb) return;
    const blamed = this.#blame(servers);
    if (blamed === null) return;
    this.#growth.delete(blamed.httpdid);
    const stopped = blamed.resetMemory(BACKSTOP_DETAIL);
    if (stopped === null) {
      this.#retire(blamed.httpdid, rssMb, budgetMb, 'the server to blame has no isolate to reset');
      return;
    }
    this.#hooks.report({ httpdid: blamed.httpdid, action: 'reset', rssMb: Math.round(rssMb), budgetMb: Math.round(budgetMb) });
    const settling: Settling = { kind: 'settle', httpdid: blamed.httpdid, budgetMb, at: now, stopped: false, stoppedSeenAt: null };
    this.#state = settling;
    void stopped.then(() => {
      settling.stopped = true;
    });
  }

  /** After a reset: back to watching once under the budget; else retire when it is clear the reset was not enough. */
  #settle(s: Settling, rssMb: number, budgetMb: number, now: number): void {
    if (rssMb <= s.budgetMb || (s.stopped && rssMb <= budgetMb)) {
      this.#state = { kind: 'watch' };
      return;
    }
    if (rssMb > this.#opts.runawayFactor * s.budgetMb) return this.#retire(s.httpdid, rssMb, budgetMb, `it passed ${this.#opts.runawayFactor} times its budget after the isolate was reset`);
    if (!s.stopped) {
      if (now - s.at >= this.#opts.stopWaitMs) this.#retire(s.httpdid, rssMb, budgetMb, 'the reset isolate did not stop');
      return;
    }
    s.stoppedSeenAt ??= now;
    if (now - s.stoppedSeenAt >= this.#opts.settleMs) this.#retire(s.httpdid, rssMb, budgetMb, 'still over it after the isolate was reset');
  }

  /** Decays the attributed growth and splits the RSS growth since the last poll between the servers by the CPU time their isolates used meanwhile. */
  #account(servers: readonly BackstopServer[], rss: number, now: number): void {
    const decay = 0.5 ** ((now - this.#lastAt) / this.#opts.growthHalfLifeMs);
    for (const [id, g] of this.#growth) this.#growth.set(id, g * decay);
    const busy = new Map<number, bigint>();
    const cpuMs = new Map<number, number>();
    let totalMs = 0;
    for (const s of servers) {
      const ns = s.busyNs;
      busy.set(s.httpdid, ns);
      // A server first seen (deployed since the last poll) ran its module evaluation meanwhile: all its CPU time so far counts.
      const before = this.#lastBusy.get(s.httpdid) ?? 0n;
      const ms = ns <= before ? 0 : Number(ns - before) / 1e6;
      if (ms > 0) cpuMs.set(s.httpdid, ms);
      totalMs += ms;
    }
    for (const id of this.#growth.keys()) if (!busy.has(id)) this.#growth.delete(id);
    const grown = rss - this.#lastRss;
    if (grown > 0 && totalMs > 0) {
      for (const [id, ms] of cpuMs) {
        const share = Math.min((grown * ms) / totalMs, ms * this.#opts.growthPerCpuMsMb * MIB);
        this.#growth.set(id, (this.#growth.get(id) ?? 0) + share);
      }
    }
    this.#lastBusy = busy;
    this.#lastRss = rss;
    this.#lastAt = now;
  }

  /**
   * The server to blame: once some server's attributed growth reaches `blameMinGrowthMb`, the one
   * whose growth plus heap sample is largest (growth split by CPU time can land on a light server
   * whose requests ran while another's module evaluation filled its buffers; the one holding more
   * than that growth in its own heap sample is the likelier cause); else the largest heap sample
   * (then the largest allowance).
   */
  #blame(servers: readonly BackstopServer[]): BackstopServer | null {
    let best: BackstopServer | null = null;
    const minGrowth = this.#opts.blameMinGrowthMb * MIB;
    if (servers.some((s) => (this.#growth.get(s.httpdid) ?? 0) >= minGrowth)) {
      let bestScore = -1;
      for (const s of servers) {
        const score = (this.#growth.get(s.httpdid) ?? 0) + s.heapUsed;
        if (score > bestScore) [best, bestScore] = [s, score];
      }
      return best;
    }
    for (const s of servers) {
      if (best === null || s.heapUsed > best.heapUsed || (s.heapUsed === best.heapUsed && s.isolateMemoryMb() > best.isolateMemoryMb())) best = s;
    }
    return best;
  }

  #retire(httpdid: number, rssMb: number, budgetMb: number, why: string): void {
    this.#state = { kind: 'done' };
    this.close();
    this.#hooks.report({ httpdid, action: 'retire', rssMb: Math.round(rssMb), budgetMb: Math.round(budgetMb) });
    this.#hooks.retire(httpdid, `worker out of memory: its resident set (${Math.round(rssMb)} MiB) is over its budget (${Math.round(budgetMb)} MiB), ${why}`);
  }
}
