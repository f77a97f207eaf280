// CPU share of one tenant server: its isolates' run time over a sliding window; a server over its share while a neighbour on its worker waits is refused for a cool-down without entering its isolate (the decision; the connection answers it 503 + Retry-After).

import type { Limits } from '../../core/limits.js';
import type { Refusal } from './server-context.js';

/** The limits this policy reads (declared in schemas/limits.json). */
export type CpuShareLimits = Pick<Limits, 'cpuShare' | 'cpuShareWindowMs' | 'cpuCooldownMs'>;

/** One cool-down episode, reported when it starts. */
export interface ThrottleEpisode {
  /** The server's share over the window when it was caught (0–1). */
  readonly share: number;
  /** How long new requests will be refused, ms (at least `cpuCooldownMs`). */
  readonly coolDownMs: number;
  /** Requests refused since the server was deployed on this worker, before this episode. */
  readonly refusedBefore: number;
}

/** How often run time is sampled while the server is busy or cooling down, ms. */
const SAMPLE_MS = 50;
/** Weight of the newest observation in the moving average of run time per request. */
const COST_WEIGHT = 0.3;

/** What the policy reads of its server. */
export interface CpuProbe {
  /** The server's isolate run time so far, ns (monotonic). */
  busyNs(): bigint;
  /** Requests handed to the sandbox and not answered yet (admitted here, so queued or running). */
  inFlight(): number;
  /** Whether another server of the same worker wants the time: requests in its sandbox now, or started very recently (someone the share protects). */
  contended(): boolean;
}

interface Sample {
  /** performance.now(), ms. */
  readonly t: number;
  /** Run time so far, ms. */
  readonly busy: number;
  /** Requests admitted so far. */
  readonly admitted: number;
}

/**
 * Tracks one server's isolate CPU time (isolated-vm's `cpuTime`: its code running, not the time it
 * is blocked waiting for a body read) over a sliding window of `cpuShareWindowMs`. When it exceeds `cpuShare` of the
 * window — or would, counting the requests already queued for the isolate at the server's moving
 * average run time per request — and another server of the same worker has requests in its
 * sandbox (the policy is work-conserving: a server alone on its worker, or with idle neighbours, is
 * never refused, and a cool-down ends as soon as the neighbours are idle), the server cools down: for at least `cpuCooldownMs`, and until
 * its share over the window would be back under the limit, every new request is answered `503` with
 * `Retry-After` before it reaches the isolate. Requests already handed to the isolate run on
 * (isolated-vm cannot take them back); counting them in is what keeps a burst of slow requests
 * from holding a core for the whole burst. A single request is never enough (its own `timeoutMs`
bounds it): a cool-down takes at least two requests within the window. Sampling runs only while the server is busy or cooling
 * down; an idle server costs no timer. A refused request never ran: it is not an outcome, it is
 * counted in {@link refused}.
 */
export class CpuShare {
  readonly #limits: () => CpuShareLimits;
  readonly #probe: CpuProbe;
  readonly #onEpisode: (e: ThrottleEpisode) => void;
  #samples: Sample[] = [];
  #timer: NodeJS.Timeout | null = null;
  /** End of the current cool-down, performance.now() ms (in the past when not cooling). */
  #until = 0;
  #refused = 0;
  #closed = false;
  /** Requests admitted so far; minus those in flight, those done. */
  #admitted = 0;
  /** Completions and run time at the last completion seen, for the cost average. */
  #doneSeen = 0;
  #busyAtDone = 0;
  /** Moving average of run time per request, ms (null until a request has completed). */
  #cost: number | null = null;

  /**
   * @param limits the server's limits now (read on every decision: a redeploy may change them)
   * @param probe the server's run time and requests in flight
   * @param onEpisode called when a cool-down starts (for the log)
   */
  constructor(limits: () => CpuShareLimits, probe: CpuProbe, onEpisode: (e: ThrottleEpisode) => void) {
    this.#limits = limits;
    this.#probe = probe;
    this.#onEpisode = onEpisode;
  }

  /** Requests refused so far. */
  get refused(): number {
    return this.#refused;
  }

  /**
   * Called when a request is about to enter the isolate. Returns `null` when it may, else the
   * decision to refuse it (`ISO_ERR_HTTP_CPU_THROTTLED`, to be answered 503 with `Retry-After` in
   * whole seconds and the connection closed).
   */
  refuse(): Refusal | null {
    const now = performance.now();
    // Work-conserving: with no other server of the worker wanting the time, nobody is refused
    // (a cool-down under way ends as soon as the neighbours are idle).
    if (now < this.#until && !this.#probe.contended()) this.#until = 0;
    if (now >= this.#until) {
      if (this.#timer === null && !this.#closed) {
        this.#sample(now);
        this.#timer = setInterval(() => this.#tick(), SAMPLE_MS);
        this.#timer.unref();
      }
      const queued = this.#probe.inFlight();
      if (queued === 0 || this.#cost === null || !this.#check(now, queued * this.#cost, 1)) {
        this.#admitted++;
        return null;
      }
    }
    this.#refused++;
    const retryAfterS = Math.max(1, Math.ceil((this.#until - now) / 1000));
    const { cpuShare, cpuShareWindowMs } = this.#limits();
    return {
      code: 'ISO_ERR_HTTP_CPU_THROTTLED',
      reason: `this server used more than its CPU share (${Math.round(cpuShare * 100)}% of a core over ${cpuShareWindowMs} ms); retry in ${retryAfterS} s`,
      retryAfterS,
    };
  }

  /** Stops sampling (the server is gone). */
  close(): void {
    this.#closed = true;
    this.#stop();
  }

  #stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** The run time now, not kept. */
  #read(now: number): Sample {
    return { t: now, busy: Number(this.#probe.busyNs()) / 1e6, admitted: this.#admitted };
  }

  /** The run time now, kept in the window. */
  #sample(now: number): Sample {
    const s = this.#read(now);
    this.#samples.push(s);
    // Keep the window, plus the last sample before it (run time is constant between samples taken while idle).
    const from = now - this.#limits().cpuShareWindowMs;
    let drop = 0;
    while (drop + 1 < this.#samples.length && (this.#samples[drop + 1] as Sample).t <= from) drop++;
    if (drop > 0) this.#samples = this.#samples.slice(drop);
    return s;
  }

  /** The last sample at or before `t` (or the oldest kept). */
  #at(t: number): Sample {
    let at = this.#samples[0];
    for (const s of this.#samples) {
      if (s.t > t) break;
      at = s;
    }
    return at ?? { t, busy: 0, admitted: 0 };
  }

  #tick(): void {
    const now = performance.now();
    const prev = this.#samples[this.#samples.length - 1];
    const cur = this.#sample(now);
    const done = this.#admitted - this.#probe.inFlight();
    if (done > this.#doneSeen) {
      const perRequest = (cur.busy - this.#busyAtDone) / (done - this.#doneSeen);
      this.#cost = this.#cost === null ? perRequest : this.#cost + COST_WEIGHT * (perRequest - this.#cost);
      this.#doneSeen = done;
      this.#busyAtDone = cur.busy;
    }
    if (this.#check(now, 0, 0, cur)) return;
    // Idle (no run time since the last sample) and not cooling down: stop sampling until the next request.
    if (prev !== undefined && cur.busy === prev.busy && now >= this.#until) this.#stop();
  }

  /**
   * Whether the server is over its share while a neighbour wants the time, counting `queuedMs` of work already handed to its
   * isolate (and `arriving` requests not admitted yet); if so, starts (or extends) the cool-down.
   * It takes at least two requests within the window: one request alone is bounded by its own
   * `timeoutMs`, and is never followed by a cool-down by itself.
   */
  #check(now: number, queuedMs: number, arriving = 0, cur: Sample = this.#read(now)): boolean {
    // Nobody else on the worker wants the time: no episode starts or grows.
    if (!this.#probe.contended()) return false;
    const { cpuShare, cpuShareWindowMs: window, cpuCooldownMs } = this.#limits();
    const allowed = cpuShare * window;
    const start = this.#at(now - window);
    const used = cur.busy - start.busy;
    const requests = cur.admitted - start.admitted + arriving;
    if (used + queuedMs > allowed && (requests >= 2 || now < this.#until)) {
      // Until the share would be back under the limit with no more run time, and at least the cool-down.
      let backUnder = window;
      for (const s of this.#samples) {
        if (s.t >= now - window && cur.busy - s.busy <= allowed) {
          backUnder = s.t + window - now;
          break;
        }
      }
      if (now >= this.#until) {
        // A new episode: at least the cool-down, and the queued work.
        this.#until = now + Math.max(cpuCooldownMs, backUnder, queuedMs);
        this.#onEpisode({ share: (used + queuedMs) / window, coolDownMs: Math.round(this.#until - now), refusedBefore: this.#refused });
      } else {
        // Still running (requests handed to the isolate before the episode): later, not longer each tick.
        this.#until = Math.max(this.#until, now + backUnder);
      }
      return true;
    }
    return false;
  }
}
