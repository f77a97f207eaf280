// One tenant server version's sandbox, its facade: invoke a request (on one of its isolate lanes, isolate-lane.ts), read its CPU time and heap use, reset, close.

import type ivm from 'isolated-vm';
import type { Limits } from '../core/limits.js';
import type { BodySource } from './body-source.js';
import type { Egress } from './egress.js';
import type { InstanceHooks, SandboxHooks, SandboxLimits } from './isolate-instance.js';
import { IsolateLane, type LaneEvents } from './isolate-lane.js';
import { catastrophicResult, crashed, type InvokeResult } from './ivm-outcome.js';
import type { IsolateReplacement } from './replacement.js';

export { type ConsoleLines, type IsolateInstance, type SandboxHooks, type SandboxLimits, SourceError } from './isolate-instance.js';
export type { InvokeResult } from './ivm-outcome.js';

/** What a request is answered once one of its server's isolates was lost in this worker process, which is being retired. */
const MOVING: InvokeResult = crashed('the server is moving to a fresh sandbox worker after one of its isolates was lost; retry');

/** A request waiting for a lane free to take it (every lane's isolate is running a batch). */
interface Waiting {
  readonly json: string;
  readonly body: BodySource;
  readonly requestId: string;
  readonly resolve: (result: InvokeResult) => void;
}

/**
 * The sandbox of one tenant server version: its requests run on `isolates` lanes (isolate-lane.ts),
 * each one isolate at a time on its own thread, under the time and memory limits, batched per
 * event-loop turn; after a timeout, a memory overrun or a crash a lane's isolate is disposed and
 * replaced (module-level state does not survive that). A request goes to a lane whose isolate is
 * not running a batch (an idle one first, else one whose next batch is about to start); when every
 * lane's is, it waits here and goes to the first lane whose batch ends, so a request blocked in a
 * body read holds up its own lane only.
 */
export class TenantSandbox {
  readonly #lanes: IsolateLane[];
  readonly #waiting: Waiting[] = [];
  readonly #limits: SandboxLimits;
  readonly #onConsole: SandboxHooks['onConsole'];
  /** Set once isolated-vm lost control of an isolate: what every request is answered from then on. */
  #abandoned: InvokeResult | null = null;
  /** Set by a disposed isolate's loss: what requests not yet in a lane are answered. */
  #refused: InvokeResult | null = null;
  #closed = false;

  private constructor(limits: SandboxLimits, hooks: SandboxHooks, lanes: IsolateLane[]) {
    this.#limits = limits;
    this.#onConsole = hooks.onConsole;
    this.#lanes = lanes;
  }

  /**
   * Compiles and evaluates the handler module and checks its default export, in `limits.isolates`
   * isolates (1 when not given), instantiated side by side. `env`: the environment as JSON (an
   * object of strings), frozen in each isolate and passed to the handler as its second argument.
   * @throws SourceError when the source does not compile, imports anything, fails or times out at
   *   module level, or does not default-export a function.
   */
  static async create(source: string, limits: SandboxLimits & Partial<Pick<Limits, 'isolates'>>, hooks: SandboxHooks, env = '{}', egress?: Egress): Promise<TenantSandbox> {
    let sandbox: TenantSandbox | null = null;
    const own: InstanceHooks = {
      onConsole: hooks.onConsole,
      onCatastrophicError: (message, isolate) => hooks.onCatastrophicError(message, sandbox === null ? isolate.isDisposed : sandbox.#lost(message, isolate)),
    };
    const events: LaneEvents = {
      batchEnded: (lane) => {
        if (sandbox !== null) sandbox.#handOver(lane);
      },
    };
    // The first lane checks the source; the others are the same source, instantiated side by side.
    const first = await IsolateLane.create(source, limits, own, events, env, egress);
    const rest = await Promise.allSettled(Array.from({ length: (limits.isolates ?? 1) - 1 }, () => IsolateLane.create(source, limits, own, events, env, egress)));
    const lanes = [first];
    for (const r of rest) if (r.status === 'fulfilled') lanes.push(r.value);
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(lanes.map((l) => l.close()));
      throw failed.reason;
    }
    sandbox = new TenantSandbox(limits, hooks, lanes);
    return sandbox;
  }

  /**
   * isolated-vm lost control of `isolate`. One already disposed (by the host at a deadline or a
   * reset, or by isolated-vm): the requests still counted on it are answered now, and true: the
   * calls running on the version's fresh isolate finish, but no request enters an isolate in this
   * process again (the lost one's memory stays held until the worker is killed: one more isolate's
   * worth would be two), so later ones are answered {@link MOVING} while the server moves to a
   * fresh worker. Else false: the caller abandons the sandbox (see {@link abandon}).
   */
  #lost(message: string, isolate: ivm.Isolate): boolean {
    if (!isolate.isDisposed) return false;
    this.#refuse(MOVING);
    for (const lane of this.#lanes) if (lane.owns(isolate)) lane.abandonOn(isolate, catastrophicResult(message, this.#limits));
    return true;
  }

  /** No request enters an isolate again: those waiting and those submitted later are answered `result`; the calls running finish. */
  #refuse(result: InvokeResult): void {
    this.#refused = result;
    for (const lane of this.#lanes) lane.refuse(result);
    this.#answerWaiting(result);
  }

  #answerWaiting(result: InvokeResult): void {
    for (const w of this.#waiting.splice(0)) w.resolve(result);
  }

  /**
   * Runs the handler for one request, its body pulled from `body` as the handler reads. Never
   * rejects: every failure is an outcome. The time limit runs from the moment the request's batch
   * is handed to a ready isolate: time spent waiting for a free lane, for the isolate to be
   * instantiated (after a replacement) or for the batch before it to end is not the request's;
   * time waiting for body bytes past the body window counts against `timeoutMs`.
   */
  invoke(requestJson: string, body: BodySource, requestId = ''): Promise<InvokeResult> {
    if (this.#abandoned !== null) return Promise.resolve(this.#abandoned);
    if (this.#closed) return Promise.resolve(crashed('server is stopping'));
    if (this.#refused !== null) return Promise.resolve(this.#refused);
    const lane = this.#free();
    if (lane !== null) return lane.submit(requestJson, body, requestId);
    return new Promise((resolve) => this.#waiting.push({ json: requestJson, body, requestId, resolve }));
  }

  /**
   * The lane a request goes to now: of those whose isolate runs no batch, the one with the fewest
   * requests queued for its next (so the requests of one event-loop turn spread over the idle
   * lanes and run side by side); null when every lane's isolate is running one (always the one
   * lane when there is one: it queues for its next batch itself).
   */
  #free(): IsolateLane | null {
    const lanes = this.#lanes;
    if (lanes.length === 1) return lanes[0] ?? null;
    let best: IsolateLane | null = null;
    for (const lane of lanes) {
      if (lane.running) continue;
      if (lane.queued === 0) return lane;
      if (best === null || lane.queued < best.queued) best = lane;
    }
    return best;
  }

  /**
   * A batch of `lane` ended: its share of the requests waiting for a free lane (an even split over
   * the lanes, so that lanes ending one after the other each get some) goes in its next batch; the
   * rest wait for the next lane to end.
   */
  #handOver(lane: IsolateLane): void {
    const waiting = this.#waiting;
    if (waiting.length === 0 || lane.closed) return;
    const share = Math.ceil(waiting.length / this.#lanes.length);
    for (const w of waiting.splice(0, share)) void lane.submit(w.json, w.body, w.requestId).then(w.resolve);
  }

  /**
   * Bytes the server version's isolates use (V8's used heap plus external memory counted against
   * `memoryMb`, summed over its lanes), bytes. A sample enters an isolate, which lets V8 run its
   * pending tasks outside any call's time limit, so a lane's is taken only while none of its
   * requests runs and only if one ran since the last (an idle server's isolate is never entered),
   * under the idle-CPU watchdog; otherwise its last figure counts. Never blocks this process.
   */
  async heapUsed(): Promise<number> {
    if (this.#abandoned !== null) return 0;
    let bytes = 0;
    for (const n of await Promise.all(this.#lanes.map((l) => l.heapUsed()))) bytes += n;
    return bytes;
  }

  /** CPU time this server version's isolates have used, ns, summed over its lanes and every isolate each has had (see {@link IsolateReplacement.busyNs}). */
  get busyNs(): bigint {
    let ns = 0n;
    for (const lane of this.#lanes) ns += lane.busyNs;
    return ns;
  }

  /** Isolates this version holds or is instantiating (each lane's live one and standby; 0 once closed or abandoned). */
  get isolateCount(): number {
    if (this.#abandoned !== null || this.#closed) return 0;
    let n = 0;
    for (const lane of this.#lanes) n += lane.isolateCount;
    return n;
  }

  /**
   * Disposes the isolates serving now and replaces them, like a memory overrun of their own (the
   * worker's RSS backstop: the worker's memory is over its budget and this server is the one to
   * blame). The requests in flight are answered `outcome` with `detail` (queued ones go to the
   * replacements) and the tenant's console gets `[isohttpd] <detail>; the isolate was reset`.
   * Returns null when there is no isolate to reset (closed or abandoned), else a promise resolved
   * once the calls that were running on them have returned (their memory is released then).
   */
  reset(outcome: 'memory', detail: string): Promise<void> | null {
    if (this.#abandoned !== null || this.#closed) return null;
    this.#onConsole([['error', `[isohttpd] ${detail}; the isolate was reset`]]);
    return Promise.all(this.#lanes.map((l) => l.reset({ outcome, detail }))).then(() => undefined);
  }

  /**
   * isolated-vm lost control of one of this sandbox's isolates (`onCatastrophicError`): answers
   * every request in flight now with what the message means (`memory` for an out-of-memory, else
   * `crashed`), and every later one too; enters no isolate again. The worker is retired next.
   */
  abandon(message: string): void {
    const result = catastrophicResult(message, this.#limits);
    this.#abandoned = result;
    for (const lane of this.#lanes) lane.abandon(result);
    this.#answerWaiting(result);
  }

  /** Disposes the isolates (and the standbys); later invocations answer `crashed`. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#answerWaiting(crashed('server is stopping'));
    await Promise.all(this.#lanes.map((l) => l.close()));
  }
}
