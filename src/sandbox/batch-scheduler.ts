// The requests of one sandbox from `invoke` to their answer: those ready in the same event-loop turn go into the isolate in one call, under their deadlines; what a timed-out batch finished is salvaged.

import type ivm from 'isolated-vm';
import { resolveLimits } from '../core/limits.js';
import type { BodySource } from './body-source.js';
import { consoleLines, type IsolateInstance, type SandboxHooks, type SandboxLimits } from './isolate-instance.js';
import { crashed, failureOutcome, isUnhandledRejection, unhandledRejectionLine, type InvokeResult, RESET, type RawResult, resultOutcome, stoppedByTimeout, timeoutResult } from './ivm-outcome.js';
import type { IsolateReplacement } from './replacement.js';
import { STREAM_BACKGROUND, STREAM_FORGET, type StreamOwner, StreamedResponse } from './response-stream.js';
import { RunningCalls } from './running-calls.js';
import type { SandboxRequest } from './sandbox-request.js';
import type { OutboundHost } from './outbound-host.js';
import type { TimerHost } from './timer-host.js';

/**
 * Extra time a running batch gets past a request's deadline for isolated-vm's own timeout to stop
 * it (which keeps the answers of the batch's other requests) before the host disposes the isolate
 * (needed when the time is spent blocked in a body read, which that timeout does not interrupt), ms.
 */
const BATCH_GRACE_MS = 50;
/** Time limit of the call that collects what a timed-out batch finished, ms. */
const SALVAGE_TIMEOUT_MS = 100;
/** waitUntilMs when the limits given leave it out (sandboxes made directly, as tests and benches do): its schema default, ms. */
const WAIT_UNTIL_DEFAULT_MS = resolveLimits(undefined).waitUntilMs;

/** What a scheduler reports to its lane. */
export interface SchedulerEvents {
  /** Called each time {@link BatchScheduler.busy} turns false (for the idle-CPU watchdog). */
  windowClosed(): void;
  /** Called each time a batch has ended (the isolate can take more requests). */
  batchEnded(): void;
}

/**
 * Runs the requests of one isolate lane. Requests submitted in the same event-loop turn go into the
 * isolate together in one call, which runs their handlers one after the other; a handler that
 * returns a promise is awaited by a call of its own. One batch at a time, so no request is charged
 * for another's time.
 */
export class BatchScheduler {
  readonly #limits: SandboxLimits;
  readonly #isolates: IsolateReplacement;
  /** Bodies of the requests in flight, by the id the isolate knows them by (read by the isolate's body reader). */
  readonly #bodies: Map<number, BodySource>;
  readonly #hooks: Pick<SandboxHooks, 'onConsole'>;
  /** The request id of a console line's tag (the id the isolate knows a request by), while that request is in flight. */
  readonly #requestOf = (tag: number): string | undefined => this.#inflight.get(tag)?.requestId;
  #nextBodyId = 1;
  #queue: SandboxRequest[] = [];
  #flushScheduled = false;
  /** A batch is being dispatched or running: the next one waits for it. */
  #batchRunning = false;
  /** Requests dispatched to an isolate and not yet answered (answered at once when the host disposes their isolate), by the id the isolate knows them by. */
  readonly #inflight = new Map<number, SandboxRequest>();
  /** Awaited requests whose results arrived since the last batch (the next batch tells the isolate, which then drops its copies). */
  #received: number[] = [];
  /** The instance the running batch's call is in, and what ends the wait for that call (its isolate was disposed at a deadline, or every request abandoned); null between batches. */
  #runningOn: IsolateInstance | null = null;
  #abandonRunning: ((none: null) => void) | null = null;

  /** Request calls into an isolate not returned yet. */
  readonly #calls = new RunningCalls();
  /** Set by {@link refuse}: what every request not yet dispatched is answered from then on. */
  #refused: InvokeResult | null = null;

  readonly #events: SchedulerEvents;
  readonly #timers: TimerHost;
  readonly #outbound: OutboundHost | undefined;

  /**
   * @param bodies where the requests' bodies go while they are in flight (the map the isolates' body reader reads)
   * @param hooks `onConsole` receives the console lines each call into the isolate returns (re-checked), when there are any
   * @param timers the lane's timers: a request's are cancelled when it ends
   * @param events what the scheduler reports to its lane
   * @param outbound the lane's outbound fetches, if it has any: a request's are aborted when it ends
   */
  constructor(
    limits: SandboxLimits,
    isolates: IsolateReplacement,
    bodies: Map<number, BodySource>,
    hooks: Pick<SandboxHooks, 'onConsole'>,
    timers: TimerHost,
    events: SchedulerEvents,
    outbound?: OutboundHost,
  ) {
    this.#timers = timers;
    this.#outbound = outbound;
    const owners = (isolate: ivm.Isolate): number[] => {
      const ids: number[] = [];
      for (const r of this.#inflight.values()) if (r.inst?.isolate === isolate) ids.push(r.id);
      return ids;
    };
    timers.bindOwners(owners);
    outbound?.bindOwners(owners);
    this.#limits = limits;
    this.#streamOwner = this.#makeStreamOwner();
    this.#isolates = isolates;
    this.#bodies = bodies;
    this.#hooks = hooks;
    this.#events = events;
  }

  /**
   * A request window is open: a batch is being dispatched or running, or a request dispatched to
   * an isolate is not answered yet (its handler's promise awaited). CPU time the isolate uses now
   * is a request's, under its deadline; outside such a window the isolate should use none.
   */
  get busy(): boolean {
    // A streamed response waiting for its client (no pull running) opens no window: CPU its isolate
    // uses then (a timer callback that spins) is idle time, which the idle-CPU watchdog bounds.
    return this.#batchRunning || this.#inflight.size > this.#streamsIdle;
  }

  /** In-flight requests that are streaming with no call into the isolate running for them. */
  #streamsIdle = 0;

  /** Marks streaming request `r` idle (between pulls) or not. */
  #streamIdle(r: SandboxRequest, idle: boolean): void {
    if (r.idle === idle) return;
    r.idle = idle;
    this.#streamsIdle += idle ? 1 : -1;
    if (idle) this.#windowMaybeClosed();
  }

  /** Tells the watchdog when the last window closed. */
  #windowMaybeClosed(): void {
    if (!this.busy) this.#events.windowClosed();
  }

  /** A batch is being dispatched or running: a request submitted now waits for it to end. */
  get running(): boolean {
    return this.#batchRunning;
  }

  /** Requests queued for the next batch. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Queues one request for the next batch; resolves with its result (never rejects).
   * @param requestId the id its client is answered with, which its console lines carry ('' for none)
   */
  submit(requestJson: string, body: BodySource, requestId = ''): Promise<InvokeResult> {
    if (this.#refused !== null) return Promise.resolve(this.#refused);
    return new Promise((resolve) => {
      const req: SandboxRequest = {
        json: requestJson,
        body,
        requestId,
        id: this.#nextBodyId++,
        t0: 0,
        resolve,
        first: null,
        complete: false,
        text: null,
        state: 'queued',
        inst: null,
        deadlinePassed: false,
        graced: false,
        timer: null,
        stream: null,
        background: false,
        onEnded: null,
        idle: false,
      };
      this.#bodies.set(req.id, body);
      this.#queue.push(req);
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
      this.#windowMaybeClosed();
      if (this.#queue.length > 0) this.#schedule();
      this.#events.batchEnded();
    }
  }

  async #runBatch(): Promise<void> {
    const reqs = this.#queue;
    this.#queue = [];
    let inst: IsolateInstance;
    try {
      inst = await this.#isolates.current;
    } catch (err) {
      for (const r of reqs) this.#finish(r, crashed(`sandbox could not be restarted: ${(err as Error).message}`));
      return;
    }
    const live = reqs.filter((r) => r.state === 'queued');
    if (live.length === 0) return;
    const refused = this.#refused;
    if (refused !== null) return live.forEach((r) => this.#finish(r, refused));
    if (this.#isolates.closed) return live.forEach((r) => this.#finish(r, crashed('server is stopping')));
    if (inst.isolate.isDisposed) {
      // Being replaced right now: the next turn gets the new instance.
      this.#queue.unshift(...live);
      return this.#schedule();
    }
    const args: unknown[] = [];
    let oldest = Infinity;
    const now = performance.now();
    for (const r of live) {
      if (r.timer === null && !r.deadlinePassed) {
        r.t0 = now;
        r.timer = setTimeout(() => this.#expire(r), this.#limits.timeoutMs);
      }
      if (r.first === null) {
        const { bytes, complete } = r.body.takeBuffered();
        r.first = bytes;
        r.complete = complete;
        // A whole body is decoded here, natively (WHATWG UTF-8 decode, U+FFFD for invalid bytes):
        // `text()` then takes the string instead of decoding the bytes in the isolate's JavaScript.
        if (complete && bytes.byteLength > 0) r.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      }
      r.state = 'batch';
      r.inst = inst;
      this.#inflight.set(r.id, r);
      args.push(r.json, r.id, r.first, r.complete, r.text);
      if (r.t0 < oldest) oldest = r.t0;
    }
    // isolated-vm's timeout covers the synchronous run of the whole batch; it ends no later than the
    // deadline of its oldest request.
    const timeout = Math.max(1, Math.floor(this.#limits.timeoutMs - (performance.now() - oldest)));
    let out: [Array<RawResult | null>, unknown] | null;
    try {
      const received = this.#received;
      this.#received = [];
      const call = inst.dispatchBatch.apply(undefined, [args, received, this.#timers.takeCancelled(inst.isolate)], { arguments: { copy: true }, result: { copy: true }, timeout });
      this.#calls.track(call);
      // Settled by the call, or with null by an abandonment; the call's late settling after an
      // abandonment (it returns only once the isolate's thread is free) then changes nothing.
      // No closure here captures `inst` (the abandonment compares `#runningOn`): with one that did,
      // most young objects of the worker survived their scavenges (sampled over 20k requests:
      // 40 MB survived against 5 MB) and its GC time about tripled.
      this.#runningOn = inst;
      out = await new Promise<[Array<RawResult | null>, unknown] | null>((resolve, reject) => {
        this.#abandonRunning = resolve;
        call.then(resolve, reject);
      });
    } catch (err) {
      out = await this.#afterRejection(inst, err);
      if (out === null) return this.#batchFailed(inst, live, err);
    } finally {
      this.#runningOn = null;
      this.#abandonRunning = null;
    }
    // Abandoned at a deadline: every request of the batch is already answered, the isolate disposed.
    if (out === null) return;
    this.#console(out[1]);
    let overrun = false;
    for (let i = 0; i < live.length; i++) {
      const r = live[i] as SandboxRequest;
      if (r.state !== 'batch') continue;
      const raw = out[0][i];
      if (raw === null || raw === undefined) {
        r.state = 'waiting';
        void this.#await(r, inst);
      } else {
        const result = this.#settle(r, raw, inst);
        if (result.outcome === 'memory') overrun = true;
      }
    }
    // Refused memory over its budget: the isolate may hold up to it, and goes (its pending requests are reset).
    if (overrun) this.#isolates.replace(inst);
  }

  /** A request whose handler returned a promise: awaited by a call of its own. */
  async #await(r: SandboxRequest, inst: IsolateInstance): Promise<void> {
    const remaining = Math.max(1, Math.floor(this.#limits.timeoutMs - (performance.now() - r.t0)));
    try {
      const [kind, text, bytes, logs, background] = await this.#calls.track(
        inst.awaitResult.apply(undefined, [r.id], {
          arguments: { copy: true },
          result: { copy: true, promise: true },
          timeout: remaining,
        }),
      );
      this.#received.push(r.id);
      this.#console(logs, r);
      const result = this.#settle(r, [kind, text, bytes, background], inst);
      if (result.outcome === 'memory') this.#isolates.replace(inst);
    } catch (err) {
      if (isUnhandledRejection(err, inst.isolate.isDisposed)) {
        this.#hooks.onConsole([unhandledRejectionLine(err)]);
        try {
          const [raw, logs] = await inst.takeSettled.apply(undefined, [r.id], { arguments: { copy: true }, result: { copy: true }, timeout: SALVAGE_TIMEOUT_MS });
          this.#console(logs);
          if (raw !== null) {
            const result = this.#settle(r, raw, inst);
            if (result.outcome === 'memory') this.#isolates.replace(inst);
            return;
          }
        } catch {
          // Not recoverable: the isolate goes.
        }
      }
      this.#isolates.replace(inst);
      this.#finish(r, failureOutcome(err, r.deadlinePassed, this.#limits));
    }
  }

  /**
   * A batch call failed: if by an unhandled rejection (the batch itself completed), logs it to the
   * tenant's console and returns the batch's results; else null.
   */
  async #afterRejection(inst: IsolateInstance, err: unknown): Promise<[Array<RawResult | null>, unknown] | null> {
    if (!isUnhandledRejection(err, inst.isolate.isDisposed)) return null;
    this.#hooks.onConsole([unhandledRejectionLine(err)]);
    try {
      const [results, logs] = await inst.takeLast.apply(undefined, [], { result: { copy: true }, timeout: SALVAGE_TIMEOUT_MS });
      return results === null ? null : [results, logs];
    } catch {
      return null;
    }
  }

  /**
   * The batch call failed. If isolated-vm's timeout stopped it, the requests that finished before
   * keep their answers, the one running gets `timeout`, and those that never started go to the next
   * batch on the fresh isolate. Otherwise the isolate is gone (a deadline, a memory overrun, a
   * crash): a request past its deadline gets `timeout`, the others the cause.
   */
  async #batchFailed(inst: IsolateInstance, reqs: SandboxRequest[], err: unknown): Promise<void> {
    if (stoppedByTimeout(err, inst.isolate.isDisposed)) {
      let done: Array<RawResult | null> | null = null;
      try {
        const [results, logs] = await inst.salvage.apply(undefined, [], { result: { copy: true }, timeout: SALVAGE_TIMEOUT_MS });
        this.#console(logs);
        done = results;
      } catch {
        // Not known which finished: every request of the batch counts as timed out.
      }
      this.#isolates.replace(inst);
      let requeued = false;
      reqs.forEach((r, i) => {
        if (r.state !== 'batch') return;
        if (done !== null && i < done.length) {
          const raw = done[i];
          if (raw === null || raw === undefined) this.#finish(r, RESET);
          else this.#settle(r, raw, inst);
        } else if (done === null || i === done.length) {
          this.#finish(r, timeoutResult(this.#limits));
        } else {
          // Never started: it goes in the next batch with its whole time limit (its deadline timer,
          // which may have fired together with the batch's, starts again when it is dispatched).
          if (r.timer !== null) clearTimeout(r.timer);
          r.timer = null;
          r.deadlinePassed = false;
          r.graced = false;
          r.state = 'queued';
          r.inst = null;
          this.#inflight.delete(r.id);
          this.#queue.push(r);
          requeued = true;
        }
      });
      if (requeued) this.#schedule();
      return;
    }
    this.#isolates.replace(inst);
    for (const r of reqs) if (r.state === 'batch') this.#finish(r, failureOutcome(err, r.deadlinePassed, this.#limits));
  }

  /** A request reached its time limit. */
  #expire(r: SandboxRequest): void {
    r.deadlinePassed = true;
    r.timer = null;
    if (r.state === 'queued') {
      this.#finish(r, timeoutResult(this.#limits));
    } else if (r.state === 'batch' && !r.graced && r.inst !== null) {
      r.graced = true;
      r.timer = setTimeout(() => this.#expire(r), BATCH_GRACE_MS);
    } else if (r.inst !== null) {
      // isolated-vm's own timeout covers only synchronous code; this deadline covers the rest
      // (microtasks, a promise that never settles, a blocked body read, a built-in V8 cannot
      // interrupt) by disposing the isolate.
      this.#drop(r.inst);
    }
  }

  /**
   * Disposes `inst` (replaced) and answers now every request still in flight on it: `timeout` past
   * its deadline, else `cause` (reset). The calls into it are not waited for: `dispose()` returns at once,
   * while a call inside a non-interruptible built-in returns only when the built-in does.
   */
  #drop(inst: IsolateInstance, cause: InvokeResult = RESET): void {
    this.#isolates.replace(inst, this.#calls.stopped());
    for (const r of [...this.#inflight.values()]) {
      if (r.inst !== inst) continue;
      this.#finish(r, r.deadlinePassed ? timeoutResult(this.#limits) : cause);
    }
    // The next batch need not wait for the abandoned call (it goes to the replacement).
    if (this.#runningOn === inst) this.#abandonRunning?.(null);
  }

  /**
   * Disposes the isolate serving and every isolate a request is in flight on (each replaced), and
   * answers those requests now with `cause` (`timeout` for one past its deadline); queued requests
   * go to the replacement. For the worker's RSS backstop. Resolves once every call that was running
   * has returned (a call inside a non-interruptible built-in returns only when the built-in does:
   * until then the isolate's memory is not released).
   */
  resetAll(cause: InvokeResult): Promise<void> {
    const insts = new Set<IsolateInstance>([this.#isolates.live]);
    for (const r of this.#inflight.values()) if (r.inst !== null) insts.add(r.inst);
    const returned = this.#calls.returned();
    for (const inst of insts) this.#drop(inst, cause);
    return returned;
  }

  /**
   * Answers every request of this sandbox now, queued or running, with `result`, and stops waiting
   * for the running call (isolated-vm has lost control of the isolate: its calls may never return).
   * Nothing is disposed or replaced; the caller stops using the sandbox.
   */
  abandonAll(result: InvokeResult): void {
    for (const r of [...this.#inflight.values(), ...this.#queue]) this.#lose(r, result);
    this.#queue = [];
    this.#abandonRunning?.(null);
    this.#calls.giveUp();
  }

  /**
   * From now on no request goes into an isolate: those queued, waiting for an isolate or submitted
   * later (see {@link submit}) are answered `result`; the calls running finish as they would.
   */
  refuse(result: InvokeResult): void {
    this.#refused = result;
    const queued = this.#queue;
    this.#queue = [];
    for (const r of queued) this.#finish(r, result);
  }

  /**
   * isolated-vm lost control of `isolate`, no longer serving (the host disposed it): answers the
   * requests still in flight on it with `result` and stops waiting for its running call; the
   * others go on.
   */
  abandonOn(isolate: ivm.Isolate, result: InvokeResult): void {
    for (const r of [...this.#inflight.values()]) if (r.inst?.isolate === isolate) this.#lose(r, result);
    if (this.#runningOn?.isolate === isolate) this.#abandonRunning?.(null);
    // Its calls never return: the replacement serves now.
    this.#calls.giveUp();
  }

  /**
   * Answers `r`, whose isolate was lost, with `result`, or `timeout` when its time had run out
   * ("Script failed to terminate" follows isolated-vm's timeout of the oldest request of a batch).
   */
  #lose(r: SandboxRequest, result: InvokeResult): void {
    const late = r.deadlinePassed || (r.timer !== null && performance.now() - r.t0 >= this.#limits.timeoutMs - 1);
    this.#finish(r, late && result.outcome === 'crashed' ? timeoutResult(this.#limits) : result);
  }

  /**
   * Hands the console lines a call returned to the hooks, each tied to its request: by its tag (the
   * request whose handler wrote it synchronously), else, for a line written by async code, to
   * `awaited` (the request the call waited for) when it is the only one in flight on this lane.
   */
  #console(raw: unknown, awaited?: SandboxRequest): void {
    const untagged = awaited !== undefined && this.#inflight.size === 1 && this.#inflight.get(awaited.id) === awaited ? awaited.requestId : undefined;
    const lines = consoleLines(raw, this.#requestOf, untagged);
    if (lines.length > 0) this.#hooks.onConsole(lines);
  }

  /**
   * What the bootstrap returned for `r`: its answer now. A streamed message (kind `stream`) and
   * waitUntil work still pending (`raw[3]` is 1) keep it in flight after its answer: its body is
   * pulled (src/sandbox/response-stream.ts), then its waitUntil work awaited, within waitUntilMs.
   * @returns the answer
   */
  #settle(r: SandboxRequest, raw: RawResult | [string, string, unknown, unknown], inst: IsolateInstance): InvokeResult {
    const result = resultOutcome([raw[0], raw[1], raw[2] as RawResult[2]], this.#limits);
    r.background = raw[3] === 1;
    const streamed = raw[0] === 'stream' && result.outcome === 'ok';
    if (raw[0] === 'stream' && !streamed) this.#forget(r, inst);
    if (!streamed && !r.background) {
      this.#finish(r, result);
      return result;
    }
    if (r.timer !== null) clearTimeout(r.timer);
    r.timer = null;
    const ended = new Promise<void>((resolve) => {
      r.onEnded = resolve;
    });
    if (!streamed) {
      r.resolve({ ...result, ended });
      this.#background(r, inst);
      return result;
    }
    const ok = result as Extract<InvokeResult, { outcome: 'ok' }>;
    r.state = 'streaming';
    this.#streamIdle(r, true);
    const stream = new StreamedResponse(r, inst, this.#streamOwner, Buffer.byteLength(raw[1]), performance.now() - r.t0);
    r.stream = stream;
    r.resolve({ outcome: 'ok', response: { ...ok.response, stream }, ended });
    return result;
  }

  /** What a streamed response needs of this scheduler (set in the constructor, once the limits are). */
  readonly #streamOwner: StreamOwner;

  #makeStreamOwner(): StreamOwner {
    return {
      limits: this.#limits,
      call: (inst, op, id, timeoutMs) => {
        const r = this.#inflight.get(id);
        if (r !== undefined) this.#streamIdle(r, false);
        const call = this.#calls.track(inst.streamOp.apply(undefined, [op, id], { arguments: { copy: true }, result: { copy: true, promise: true }, timeout: timeoutMs }));
        const after = (): void => {
          if (r?.state === 'streaming') this.#streamIdle(r, true);
        };
        call.then(after, after);
        return call;
      },
      console: (raw, r) => this.#console(raw, r),
      // A pull's or a close's deadline; one left over from a request that has ended since does nothing.
      expire: (r) => {
        if (r.state === 'streaming') this.#expire(r);
      },
      ended: (r, failed, inst, lost) => {
        if (r.state !== 'streaming') return;
        r.stream = null;
        if (lost === true) {
          if (!inst.isolate.isDisposed) this.#isolates.replace(inst);
          return this.#finish(r);
        }
        if (failed !== null) this.#forget(r, inst);
        if (r.background && failed === null) return this.#background(r, inst);
        this.#finish(r);
      },
    };
  }

  /** Tells the bootstrap to drop what it keeps for `r` (a stream not pulled to its end, waitUntil work no longer awaited). */
  #forget(r: SandboxRequest, inst: IsolateInstance): void {
    if (inst.isolate.isDisposed) return;
    inst.streamOp.apply(undefined, [STREAM_FORGET, r.id], { arguments: { copy: true }, timeout: SALVAGE_TIMEOUT_MS }).catch(() => undefined);
  }

  /**
   * `r` was answered; the work its handler gave waitUntil is awaited, for at most waitUntilMs, then
   * `r` ends (its timers cancelled). Its CPU time is the server's (the isolate's), like any other.
   */
  #background(r: SandboxRequest, inst: IsolateInstance): void {
    this.#streamIdle(r, false);
    r.state = 'background';
    const ms = this.#limits.waitUntilMs ?? WAIT_UNTIL_DEFAULT_MS;
    const stop = (): void => {
      if (r.state !== 'background') return;
      this.#hooks.onConsole([['warn', `[isohttpd] waitUntil work still pending after waitUntilMs (${ms} ms): stopped`]]);
      this.#forget(r, inst);
      this.#finish(r);
    };
    if (ms === 0) return stop();
    r.timer = setTimeout(stop, ms);
    this.#calls.track(inst.streamOp.apply(undefined, [STREAM_BACKGROUND, r.id], { arguments: { copy: true }, result: { copy: true, promise: true }, timeout: ms })).then(
      (out) => {
        if (r.state !== 'background') return;
        const [failures, logs] = Array.isArray(out) ? (out as unknown[]) : [];
        this.#console(logs, r);
        if (Array.isArray(failures) && failures.length > 0)
          this.#hooks.onConsole(failures.slice(0, 10).map((f) => ['error', `[isohttpd] a waitUntil promise rejected: ${String(f).slice(0, 1024)}`] as const));
        this.#finish(r);
      },
      (err: unknown) => {
        if (r.state !== 'background') return;
        if (isUnhandledRejection(err, inst.isolate.isDisposed)) this.#hooks.onConsole([unhandledRejectionLine(err)]);
        else if (!inst.isolate.isDisposed) this.#isolates.replace(inst);
        this.#finish(r);
      },
    );
  }

  /**
   * Ends `r`: answers it with `result` unless it was answered already (a streamed or background
   * request: then a pull in progress gets the failure), and stops everything it owned.
   */
  #finish(r: SandboxRequest, result?: InvokeResult): void {
    if (r.state === 'done') return;
    const answered = r.state === 'streaming' || r.state === 'background';
    r.state = 'done';
    this.#streamIdle(r, false);
    if (r.stream !== null && result !== undefined) r.stream.abort(result);
    r.stream = null;
    const wasInFlight = this.#inflight.delete(r.id);
    if (r.timer !== null) clearTimeout(r.timer);
    r.timer = null;
    this.#bodies.delete(r.id);
    // Its timers that no other request in flight may own are cancelled: none fires after it (nor after its deadline).
    if (r.inst !== null) this.#timers.requestEnded(r.inst.isolate, r.id);
    // So are its outbound fetches (at its end, or its deadline: their wait is within its time limit).
    this.#outbound?.requestEnded(r.id);
    if (!answered && result !== undefined) r.resolve(result);
    r.onEnded?.();
    r.onEnded = null;
    if (wasInFlight) this.#windowMaybeClosed();
  }
}
