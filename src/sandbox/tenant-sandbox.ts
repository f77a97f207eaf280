// One tenant server version's sandbox, its facade: invoke a request, read its CPU time and heap use, close; the batching (batch-scheduler.ts), the isolate replacement (replacement.ts) and the idle-CPU watchdog (idle-watchdog.ts) behind it.

import ivm from 'isolated-vm';
import { BatchScheduler } from './batch-scheduler.js';
import type { BodySource } from './body-source.js';
import { type BodyReader, type InstanceHooks, type IsolateInstance, instantiate, type SandboxHooks, type SandboxLimits } from './isolate-instance.js';
import { catastrophicResult, crashed, type InvokeResult } from './ivm-outcome.js';
import { IdleWatchdog } from './idle-watchdog.js';
import { IsolateReplacement } from './replacement.js';

export { type ConsoleLines, type IsolateInstance, type SandboxHooks, type SandboxLimits, SourceError } from './isolate-instance.js';
export type { InvokeResult } from './ivm-outcome.js';

/** What a request is answered once one of its server's isolates was lost in this worker process, which is being retired. */
const MOVING: InvokeResult = crashed('the server is moving to a fresh sandbox worker after one of its isolates was lost; retry');

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

/**
 * The sandbox of one tenant server version: its requests run in one isolate at a time, under the
 * time and memory limits, batched per event-loop turn; after a timeout, a memory overrun or a crash
 * the isolate is disposed and replaced (module-level state does not survive that).
 */
export class TenantSandbox {
  readonly #isolates: IsolateReplacement;
  readonly #scheduler: BatchScheduler;
  readonly #watchdog: IdleWatchdog<IsolateInstance>;
  /** The last heap figure, bytes, and whether a request ran since it was taken. */
  #heapUsed = 0;
  #ranSinceSample = true;
  readonly #limits: SandboxLimits;
  readonly #onConsole: SandboxHooks['onConsole'];
  /** Set once isolated-vm lost control of an isolate: what every request is answered from then on. */
  #abandoned: InvokeResult | null = null;

  private constructor(source: string, limits: SandboxLimits, hooks: InstanceHooks, first: IsolateInstance, bodies: Map<number, BodySource>) {
    this.#limits = limits;
    this.#onConsole = hooks.onConsole;
    const isolates = new IsolateReplacement(first, () => instantiate(source, limits, hooks, readerFor(bodies)));
    this.#isolates = isolates;
    this.#scheduler = new BatchScheduler(limits, isolates, bodies, hooks, () => {
      this.#ranSinceSample = true;
      this.#watchdog.windowClosed(isolates.live);
    });
    this.#watchdog = new IdleWatchdog<IsolateInstance>(
      // A request window is open on the instance serving only; a standby never has one.
      { instances: () => isolates.instances, busy: (inst) => inst === isolates.live && this.#scheduler.busy },
      (inst, idleMs) => {
        hooks.onConsole([['error', `[isohttpd] code ran outside a request for ${idleMs} ms; the isolate was reset`]]);
        // Its CPU time so far stays in busyNs (read before the dispose): charged to the server's share.
        isolates.replace(inst);
      },
    );
  }

  /**
   * Compiles and evaluates the handler module and checks its default export.
   * @throws SourceError when the source does not compile, imports anything, fails or times out at
   *   module level, or does not default-export a function.
   */
  static async create(source: string, limits: SandboxLimits, hooks: SandboxHooks): Promise<TenantSandbox> {
    const bodies = new Map<number, BodySource>();
    let sandbox: TenantSandbox | null = null;
    const own: InstanceHooks = {
      onConsole: hooks.onConsole,
      onCatastrophicError: (message, isolate) => hooks.onCatastrophicError(message, sandbox === null ? isolate.isDisposed : sandbox.#lost(message, isolate)),
    };
    const first = await instantiate(source, limits, own, readerFor(bodies));
    sandbox = new TenantSandbox(source, limits, own, first, bodies);
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
    this.#scheduler.refuse(MOVING);
    this.#scheduler.abandonOn(isolate, catastrophicResult(message, this.#limits));
    return true;
  }

  /**
   * Runs the handler for one request, its body pulled from `body` as the handler reads. Never
   * rejects: every failure is an outcome. The time limit runs from the moment the request's batch
   * is handed to a ready isolate: time spent waiting for the isolate to be instantiated (after a
   * replacement) or for the batch before it to end is not the request's; time waiting for body
   * bytes counts against `timeoutMs`.
   */
  invoke(requestJson: string, body: BodySource): Promise<InvokeResult> {
    if (this.#abandoned !== null) return Promise.resolve(this.#abandoned);
    if (this.#isolates.closed) return Promise.resolve(crashed('server is stopping'));
    return this.#scheduler.submit(requestJson, body);
  }

  /**
   * Bytes the current isolate uses (V8's used heap plus external memory counted against
   * `memoryMb`), bytes. A sample enters the isolate, which lets V8 run its pending tasks outside
   * any call's time limit, so one is taken only while no request runs and only if one ran since
   * the last (an idle server's isolate is never entered), under the idle-CPU watchdog; otherwise
   * this is the last figure. Never blocks this process.
   */
  async heapUsed(): Promise<number> {
    if (this.#scheduler.busy || this.#abandoned !== null || !this.#ranSinceSample) return this.#heapUsed;
    this.#ranSinceSample = false;
    const bytes = await this.#isolates.heapUsed();
    if (bytes !== null) this.#heapUsed = bytes;
    return this.#heapUsed;
  }

  /** CPU time this server version's isolates have used, ns, summed over every isolate it has had (see {@link IsolateReplacement.busyNs}). */
  get busyNs(): bigint {
    return this.#isolates.busyNs;
  }

  /** Isolates this version holds or is instantiating (the live one and the standby; 0 once closed or abandoned). */
  get isolateCount(): number {
    return this.#abandoned === null ? this.#isolates.count : 0;
  }

  /**
   * Disposes the isolate serving now and replaces it, like a memory overrun of its own (the
   * worker's RSS backstop: the worker's memory is over its budget and this server is the one to
   * blame). Its requests in flight are answered `outcome` with `detail` (queued ones go to the
   * replacement) and the tenant's console gets `[isohttpd] <detail>; the isolate was reset`.
   * Returns null when there is no isolate to reset (closed or abandoned), else a promise resolved
   * once the calls that were running on it have returned (its memory is released then).
   */
  reset(outcome: 'memory', detail: string): Promise<void> | null {
    if (this.#abandoned !== null || this.#isolates.closed) return null;
    this.#onConsole([['error', `[isohttpd] ${detail}; the isolate was reset`]]);
    return this.#scheduler.resetAll({ outcome, detail });
  }

  /**
   * isolated-vm lost control of one of this sandbox's isolates (`onCatastrophicError`): answers
   * every request in flight now with what the message means (`memory` for an out-of-memory, else
   * `crashed`), and every later one too; enters no isolate again. The worker is retired next.
   */
  abandon(message: string): void {
    const result = catastrophicResult(message, this.#limits);
    this.#abandoned = result;
    this.#watchdog.close();
    this.#isolates.abandon();
    this.#scheduler.abandonAll(result);
  }

  /** Disposes the isolate (and the standby); later invocations answer `crashed`. */
  close(): Promise<void> {
    this.#watchdog.close();
    return this.#isolates.close();
  }
}
