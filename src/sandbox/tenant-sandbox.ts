// One tenant server's isolate: runs the requests that are ready together in one isolate call per event-loop turn under the time and memory limits, replaces the isolate after a fatal outcome (from a ready standby once one was needed).

import ivm from 'isolated-vm';
import type { Outcome } from '../core/outcome.js';
import type { BodySource } from './body-source.js';
import { consoleLines, instantiate, type BodyReader, type Instance, type RawResult, type SandboxHooks, type SandboxLimits } from './isolate-instance.js';
import { checkResponse, type ValidResponse } from './response-check.js';

export { SourceError, type ConsoleLines, type SandboxHooks, type SandboxLimits } from './isolate-instance.js';

/** How one invocation ended. `detail` is for the client's text body and the log; never includes host internals. */
export type InvokeResult = { readonly outcome: 'ok'; readonly response: ValidResponse } | { readonly outcome: Exclude<Outcome, 'ok'>; readonly detail: string };

/**
 * Extra time a running batch gets past a request's deadline for isolated-vm's own timeout to stop
 * it (which keeps the answers of the batch's other requests) before the host disposes the isolate
 * (needed when the time is spent blocked in a body read, which that timeout does not interrupt), ms.
 */
const BATCH_GRACE_MS = 50;
/** Time limit of the call that collects what a timed-out batch finished, ms. */
const SALVAGE_TIMEOUT_MS = 100;

/** One request from `invoke` to its answer. */
interface Job {
  readonly json: string;
  readonly body: BodySource;
  readonly id: number;
  /** When it was first handed to a ready isolate (performance.now(), ms): its time limit runs from here. */
  t0: number;
  readonly resolve: (r: InvokeResult) => void;
  /** Body bytes taken when it was first dispatched (kept, should it be dispatched again). */
  first: Uint8Array | null;
  complete: boolean;
  /** queued: waiting for a batch; batch: its batch is running; waiting: its handler's promise is pending. */
  state: 'queued' | 'batch' | 'waiting' | 'done';
  inst: Instance | null;
  deadlinePassed: boolean;
  graced: boolean;
  timer: NodeJS.Timeout | null;
}

/**
 * An isolate's CPU time so far, ns (0 once isolated-vm has disposed it on its own, e.g. over its
 * memory limit). isolated-vm 7 on Node 24 reports real thread CPU time here: a handler blocked in a
 * body read (applySyncPromise) is not charged, one spinning is (`wallTime` counts both).
 */
function runNs(inst: Instance): bigint {
  try {
    return inst.isolate.cpuTime;
  } catch {
    return 0n;
  }
}

/** The host function behind `datastream` reads: looks the body up by id; the bytes cross as a fresh copy. */
function readerFor(bodies: Map<number, BodySource>): BodyReader {
  return async (id, max) => {
    const body = bodies.get(id);
    if (body === undefined) throw new Error('the request has ended');
    if (typeof max !== 'number' || !(max === -1 || max > 0)) throw new TypeError('invalid read size');
    // applySyncPromise takes no `result` options: the value must be a transferable, so a copy that
    // materializes as a plain Uint8Array inside the isolate.
    return new ivm.ExternalCopy(await body.read(max)).copyInto({ release: true });
  };
}

const crashed = (detail: string): InvokeResult => ({ outcome: 'crashed', detail });
const RESET: InvokeResult = crashed('the sandbox was reset while this request ran');

/**
 * The isolate of one tenant server. Requests invoked in the same event-loop turn go into the
 * isolate together in one call, which runs their handlers one after the other; a handler that
 * returns a promise is awaited by a call of its own. After a timeout, a memory overrun or a crash
 * the isolate is disposed and replaced; module-level state does not survive that. From the first
 * replacement on, a spare instance is kept instantiated so that the next one is a swap (one more
 * idle isolate's memory, for servers that have had a fatal outcome).
 */
export class TenantSandbox {
  readonly #source: string;
  readonly #limits: SandboxLimits;
  readonly #hooks: SandboxHooks;
  #current: Promise<Instance>;
  #standby: Promise<Instance> | null = null;
  #closed = false;
  /** Bodies of the requests in flight, by the id the isolate knows them by. */
  readonly #bodies: Map<number, BodySource>;
  #nextBodyId = 1;
  #queue: Job[] = [];
  #flushScheduled = false;
  /** A batch is being dispatched or running: the next one waits for it (so no request is charged for another's time). */
  #batchRunning = false;
  /** For {@link busyNs}: the instance serving now, the run time last seen of it, and that of the isolates before it, ns. */
  #live: Instance;
  #liveNs = 0n;
  #retiredNs = 0n;

  private constructor(source: string, limits: SandboxLimits, first: Instance, hooks: SandboxHooks, bodies: Map<number, BodySource>) {
    this.#source = source;
    this.#limits = limits;
    this.#current = Promise.resolve(first);
    this.#live = first;
    this.#hooks = hooks;
    this.#bodies = bodies;
  }

  /**
   * Compiles and evaluates the handler module and checks its default export.
   * @throws SourceError when the source does not compile, imports anything, fails or times out at
   *   module level, or does not default-export a function.
   */
  static async create(source: string, limits: SandboxLimits, hooks: SandboxHooks): Promise<TenantSandbox> {
    const bodies = new Map<number, BodySource>();
    const first = await instantiate(source, limits, hooks, readerFor(bodies));
    return new TenantSandbox(source, limits, first, hooks, bodies);
  }

  /**
   * Runs the handler for one request, its body pulled from `body` as the handler reads. Never
   * rejects: every failure is an outcome. The time limit runs from the moment the request's batch
   * is handed to a ready isolate: time spent waiting for the isolate to be instantiated (after a
   * replacement) or for the batch before it to end is not the request's; time waiting for body
   * bytes counts against `timeoutMs`.
   */
  invoke(requestJson: string, body: BodySource): Promise<InvokeResult> {
    if (this.#closed) return Promise.resolve(crashed('server is stopping'));
    return new Promise((resolve) => {
      const job: Job = {
        json: requestJson,
        body,
        id: this.#nextBodyId++,
        t0: 0,
        resolve,
        first: null,
        complete: false,
        state: 'queued',
        inst: null,
        deadlinePassed: false,
        graced: false,
        timer: null,
      };
      this.#bodies.set(job.id, body);
      this.#queue.push(job);
      this.#schedule();
    });
  }

  /** One batch per event-loop turn: every request that became ready during the turn's I/O. */
  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    // One batch at a time: requests that arrive meanwhile wait in the queue, their time limits not
    // yet running, and go in the next batch as soon as this one ends.
    if (this.#batchRunning) return;
    this.#batchRunning = true;
    try {
      await this.#runBatch();
    } finally {
      this.#batchRunning = false;
      if (this.#queue.length > 0) this.#schedule();
    }
  }

  async #runBatch(): Promise<void> {
    const jobs = this.#queue;
    this.#queue = [];
    let inst: Instance;
    try {
      inst = await this.#current;
    } catch (err) {
      for (const j of jobs) this.#finish(j, crashed(`sandbox could not be restarted: ${(err as Error).message}`));
      return;
    }
    const live = jobs.filter((j) => j.state === 'queued');
    if (live.length === 0) return;
    if (this.#closed) return live.forEach((j) => this.#finish(j, crashed('server is stopping')));
    if (inst.isolate.isDisposed) {
      // Being replaced right now: the next turn gets the new instance.
      this.#queue.unshift(...live);
      return this.#schedule();
    }
    const args: unknown[] = [];
    let oldest = Infinity;
    const now = performance.now();
    for (const j of live) {
      if (j.timer === null && !j.deadlinePassed) {
        j.t0 = now;
        j.timer = setTimeout(() => this.#expire(j), this.#limits.timeoutMs);
      }
      if (j.first === null) {
        const { bytes, complete } = j.body.takeBuffered();
        j.first = bytes;
        j.complete = complete;
      }
      j.state = 'batch';
      j.inst = inst;
      args.push(j.json, j.id, j.first, j.complete);
      if (j.t0 < oldest) oldest = j.t0;
    }
    // isolated-vm's timeout covers the synchronous run of the whole batch; it ends no later than the
    // deadline of its oldest request.
    const timeout = Math.max(1, Math.floor(this.#limits.timeoutMs - (performance.now() - oldest)));
    let out: [Array<RawResult | null>, unknown];
    try {
      out = await inst.dispatchBatch.apply(undefined, [args], { arguments: { copy: true }, result: { copy: true }, timeout });
    } catch (err) {
      return this.#batchFailed(inst, live, err);
    }
    this.#console(out[1]);
    for (let i = 0; i < live.length; i++) {
      const j = live[i] as Job;
      if (j.state !== 'batch') continue;
      const r = out[0][i];
      if (r === null || r === undefined) {
        j.state = 'waiting';
        void this.#await(j, inst);
      } else {
        this.#finish(j, this.#result(r));
      }
    }
  }

  /** A request whose handler returned a promise: awaited by a call of its own. */
  async #await(j: Job, inst: Instance): Promise<void> {
    const remaining = Math.max(1, Math.floor(this.#limits.timeoutMs - (performance.now() - j.t0)));
    try {
      const [kind, text, bytes, logs] = await inst.awaitResult.apply(undefined, [j.id], {
        arguments: { copy: true },
        result: { copy: true, promise: true },
        timeout: remaining,
      });
      this.#console(logs);
      this.#finish(j, this.#result([kind, text, bytes]));
    } catch (err) {
      this.#replace(inst);
      this.#finish(j, this.#fatal(err, j.deadlinePassed));
    }
  }

  /**
   * The batch call failed. If isolated-vm's timeout stopped it, the requests that finished before
   * keep their answers, the one running gets `timeout`, and those that never started go to the next
   * batch on the fresh isolate. Otherwise the isolate is gone (a deadline, a memory overrun, a
   * crash): a request past its deadline gets `timeout`, the others the cause.
   */
  async #batchFailed(inst: Instance, jobs: Job[], err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    if (!inst.isolate.isDisposed && /timed out/i.test(message)) {
      let done: Array<RawResult | null> | null = null;
      try {
        const [results, logs] = await inst.salvage.apply(undefined, [], { result: { copy: true }, timeout: SALVAGE_TIMEOUT_MS });
        this.#console(logs);
        done = results;
      } catch {
        // Not known which finished: every request of the batch counts as timed out.
      }
      this.#replace(inst);
      let requeued = false;
      jobs.forEach((j, i) => {
        if (j.state !== 'batch') return;
        if (done !== null && i < done.length) {
          const r = done[i];
          this.#finish(j, r === null || r === undefined ? RESET : this.#result(r));
        } else if (done === null || i === done.length) {
          this.#finish(j, this.#timeoutResult());
        } else {
          // Never started: it goes in the next batch with its whole time limit (its deadline timer,
          // which may have fired together with the batch's, starts again when it is dispatched).
          if (j.timer !== null) clearTimeout(j.timer);
          j.timer = null;
          j.deadlinePassed = false;
          j.graced = false;
          j.state = 'queued';
          j.inst = null;
          this.#queue.push(j);
          requeued = true;
        }
      });
      if (requeued) this.#schedule();
      return;
    }
    this.#replace(inst);
    for (const j of jobs) if (j.state === 'batch') this.#finish(j, this.#fatal(err, j.deadlinePassed));
  }

  /** A request reached its time limit. */
  #expire(j: Job): void {
    j.deadlinePassed = true;
    j.timer = null;
    if (j.state === 'queued') {
      this.#finish(j, this.#timeoutResult());
    } else if (j.state === 'batch' && !j.graced && j.inst !== null) {
      j.graced = true;
      j.timer = setTimeout(() => this.#expire(j), BATCH_GRACE_MS);
    } else if (j.inst !== null) {
      // isolated-vm's own timeout covers only synchronous code; this deadline covers the rest
      // (microtasks, a promise that never settles, a blocked body read) by disposing the isolate.
      this.#replace(j.inst);
    }
  }

  #finish(j: Job, r: InvokeResult): void {
    if (j.state === 'done') return;
    j.state = 'done';
    if (j.timer !== null) clearTimeout(j.timer);
    j.timer = null;
    this.#bodies.delete(j.id);
    j.resolve(r);
  }

  #timeoutResult(): InvokeResult {
    return { outcome: 'timeout', detail: `handler exceeded its time limit (${this.#limits.timeoutMs} ms)` };
  }

  #fatal(err: unknown, deadlinePassed: boolean): InvokeResult {
    const message = err instanceof Error ? err.message : String(err);
    if (deadlinePassed || /timed out/i.test(message)) return this.#timeoutResult();
    if (/memory limit/i.test(message)) return { outcome: 'memory', detail: `handler exceeded its memory limit (${this.#limits.memoryMb} MiB)` };
    // Disposed under this request by another request's deadline, or an isolated-vm failure.
    return RESET;
  }

  #result([kind, text, bytes]: RawResult): InvokeResult {
    if (kind === 'exception') return { outcome: 'exception', detail: `handler raised: ${text}` };
    if (kind !== 'ok') return { outcome: 'invalidResponse', detail: `invalid response: ${text}` };
    const checked = checkResponse(text, bytes, this.#limits.maxResponseBytes);
    return checked.ok ? { outcome: 'ok', response: checked.response } : { outcome: 'invalidResponse', detail: `invalid response: ${checked.reason}` };
  }

  #console(raw: unknown): void {
    const lines = consoleLines(raw);
    if (lines.length > 0) this.#hooks.onConsole(lines);
  }

  #fresh(): Promise<Instance> {
    const p = instantiate(this.#source, this.#limits, this.#hooks, readerFor(this.#bodies));
    p.catch(() => undefined);
    return p;
  }

  /** Disposes `inst` and, if it is still the current instance, swaps in the standby (or a fresh one), then readies a new standby. */
  #replace(inst: Instance): void {
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
   * CPU time this server's isolates have used, ns, summed over every isolate it has had:
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

  /** Disposes the isolate (and the standby); later invocations answer `crashed`. */
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
