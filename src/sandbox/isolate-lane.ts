// One isolate lane of a server version: its isolate (replaced after a fatal outcome, replacement.ts), the batches it runs (batch-scheduler.ts), its idle-CPU watchdog and its body reader; a version runs `isolates` lanes side by side (tenant-sandbox.ts).

import ivm from 'isolated-vm';
import { BatchScheduler } from './batch-scheduler.js';
import type { BodySource } from './body-source.js';
import { IdleWatchdog } from './idle-watchdog.js';
import { type BodyReader, type InstanceHooks, type IsolateInstance, instantiate, type SandboxLimits } from './isolate-instance.js';
import type { InvokeResult } from './ivm-outcome.js';
import { IsolateReplacement } from './replacement.js';
import type { Egress } from './egress.js';
import { OutboundHost } from './outbound-host.js';
import { TimerHost } from './timer-host.js';

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

/** What a lane tells its sandbox. */
export interface LaneEvents {
  /** A batch of this lane ended: the lane can take requests that wait for a free isolate. */
  batchEnded(lane: IsolateLane): void;
}

/**
 * One isolate of a server version at a time (the lane's lifetime spans its replacements), with
 * the requests it runs: lifetimes server → version → lane (`isolates` per version) → isolate →
 * request. Module-level state lives in the isolate: a lane's survives only until its isolate is
 * replaced, and lanes never share theirs.
 */
export class IsolateLane {
  readonly #isolates: IsolateReplacement;
  readonly #scheduler: BatchScheduler;
  readonly #watchdog: IdleWatchdog<IsolateInstance>;
  /** Every isolate this lane has had (to route isolated-vm's late reports about a disposed one). */
  readonly #mine: WeakSet<ivm.Isolate>;
  /** The last heap figure, bytes, and whether a request ran since it was taken. */
  #heapUsed = 0;
  #ranSinceSample = true;

  private constructor(
    first: IsolateInstance,
    fresh: () => Promise<IsolateInstance>,
    mine: WeakSet<ivm.Isolate>,
    limits: SandboxLimits,
    hooks: InstanceHooks,
    bodies: Map<number, BodySource>,
    events: LaneEvents,
    timers: TimerHost,
    outbound: OutboundHost | undefined,
  ) {
    this.#mine = mine;
    const isolates = new IsolateReplacement(first, fresh);
    this.#isolates = isolates;
    this.#scheduler = new BatchScheduler(
      limits,
      isolates,
      bodies,
      hooks,
      timers,
      {
        windowClosed: () => {
          this.#ranSinceSample = true;
          this.#watchdog.windowClosed(isolates.live);
        },
        batchEnded: () => events.batchEnded(this),
      },
      outbound,
    );
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
   * A lane on a fresh isolate of `source`.
   * @param egress the server version's outbound fetch; without it the handler's `fetch` rejects
   * @throws SourceError when the source cannot be used (see {@link instantiate}).
   */
  static async create(source: string, limits: SandboxLimits, hooks: InstanceHooks, events: LaneEvents, env = '{}', egress?: Egress): Promise<IsolateLane> {
    const bodies = new Map<number, BodySource>();
    const mine = new WeakSet<ivm.Isolate>();
    const reader = readerFor(bodies);
    const timers = new TimerHost();
    const outbound = egress === undefined ? undefined : new OutboundHost(egress);
    const fresh = async (pooled = false): Promise<IsolateInstance> => {
      const inst = await instantiate(source, limits, hooks, reader, pooled, env, timers, outbound);
      mine.add(inst.isolate);
      return inst;
    };
    // The deploy's isolate from the worker's ready pool; replacements and standbys prepare their own.
    return new IsolateLane(await fresh(true), () => fresh(), mine, limits, hooks, bodies, events, timers, outbound);
  }

  /** Whether `isolate` is (or was) one of this lane's. */
  owns(isolate: ivm.Isolate): boolean {
    return this.#mine.has(isolate);
  }

  /** A batch is being dispatched or running in this lane's isolate (it takes no new request until it ends). */
  get running(): boolean {
    return this.#scheduler.running;
  }

  /** Requests queued for this lane's next batch. */
  get queued(): number {
    return this.#scheduler.queued;
  }

  /** Queues one request for this lane's next batch; resolves with its result (never rejects). @param requestId the id its console lines carry */
  submit(requestJson: string, body: BodySource, requestId = ''): Promise<InvokeResult> {
    return this.#scheduler.submit(requestJson, body, requestId);
  }

  /** This lane's heap figure, bytes (see TenantSandbox.heapUsed: sampled only while idle, after a request ran). */
  async heapUsed(): Promise<number> {
    if (this.#scheduler.busy || !this.#ranSinceSample) return this.#heapUsed;
    this.#ranSinceSample = false;
    const bytes = await this.#isolates.heapUsed();
    if (bytes !== null) this.#heapUsed = bytes;
    return this.#heapUsed;
  }

  /** CPU time of every isolate this lane has had, ns. */
  get busyNs(): bigint {
    return this.#isolates.busyNs;
  }

  /** Isolates this lane holds or is instantiating (the live one and the standby). */
  get isolateCount(): number {
    return this.#isolates.count;
  }

  /** Disposes this lane's isolates with a request on them and answers those requests `cause` (see BatchScheduler.resetAll). */
  reset(cause: InvokeResult): Promise<void> {
    return this.#scheduler.resetAll(cause);
  }

  /** From now on no request enters this lane's isolate (see BatchScheduler.refuse). */
  refuse(result: InvokeResult): void {
    this.#scheduler.refuse(result);
  }

  /** isolated-vm lost control of `isolate`, one of this lane's, already disposed (see BatchScheduler.abandonOn). */
  abandonOn(isolate: ivm.Isolate, result: InvokeResult): void {
    this.#scheduler.abandonOn(isolate, result);
  }

  /** Answers every request of this lane with `result`, and enters, disposes or replaces no isolate again (see BatchScheduler.abandonAll). */
  abandon(result: InvokeResult): void {
    this.#watchdog.close();
    this.#isolates.abandon();
    this.#scheduler.abandonAll(result);
  }

  /** Disposes the isolate (and the standby); later submissions answer `crashed`. */
  close(): Promise<void> {
    this.#watchdog.close();
    return this.#isolates.close();
  }

  /** {@link close} was called. */
  get closed(): boolean {
    return this.#isolates.closed;
  }
}
