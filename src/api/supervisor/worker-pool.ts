// The supervised pool of sandbox worker processes: placement of replicas, heartbeats, replacement, crash accounting, quarantine.

import { EventEmitter } from 'node:events';
import { IsoError } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';
import type { FromWorker, ServerCounters, WorkerInfo } from '../../host/worker/protocol.js';
import type { BoundHandle } from '../control/bind.js';
import { StatsBook, type OutcomeCounts, type ServerStats } from './server-stats.js';
import { WorkerProcess } from './worker-process.js';

export type { OutcomeCounts, ServerStats } from './server-stats.js';

/** The subset of a pino logger the pool and the manager use. */
export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What a worker needs to host one server (kept so that a replacement worker can host it again). */
export interface DeploySpec {
  readonly httpdid: number;
  readonly port: number;
  readonly source: string;
  readonly limits: Limits;
  readonly handle: BoundHandle;
}

/** A new version of a server compiled on every one of its slots, not yet serving. */
export interface PreparedRedeploy {
  /** Switches every replica to the new version (new requests; in-flight ones finish on the old). Never rejects: a replica that cannot switch is logged and re-hosted. */
  commit(): Promise<void>;
  /** Drops the prepared version everywhere; the old one keeps serving. */
  abort(): Promise<void>;
}

/** Heartbeat period and the time a worker has to answer one, ms. */
const HEARTBEAT_MS = 250;
const HEARTBEAT_DEADLINE_MS = 1000;
/** Worker restart back-off, ms. */
const RESTART_MIN_MS = 50;
const RESTART_MAX_MS = 5000;

interface Slot {
  readonly index: number;
  /** Set for a quarantine slot: the one server it may host. */
  readonly dedicatedTo: number | null;
  worker: Promise<WorkerProcess>;
  /** The worker once it is up and until it exits. */
  live: WorkerProcess | null;
  readonly specs: Map<number, DeploySpec>;
  /** Counters from the last heartbeat, by httpdid. */
  lastStats: Record<string, ServerCounters>;
  restartDelay: number;
  /** The server a catastrophic error was blamed on, reported just before the worker exits. */
  blamed: number | null;
}

/** Sends one server (with its handle) to a worker; resolves once it listens. @throws IsoError with the worker's code. */
async function hostOn(worker: WorkerProcess, spec: DeploySpec): Promise<void> {
  const reply = await worker.request({ op: 'deploy', httpdid: spec.httpdid, port: spec.port, source: spec.source, limits: spec.limits }, spec.handle);
  if (!reply.ok) throw new IsoError(reply.code, reply.message);
}

/** Asks a worker to do one redeploy step for a server. @throws IsoError with the worker's code. */
async function step(worker: WorkerProcess, req: { op: 'prepare'; httpdid: number; source: string; limits: Limits } | { op: 'commit' | 'abort'; httpdid: number }): Promise<void> {
  const reply = await worker.request(req);
  if (!reply.ok) throw new IsoError(reply.code, reply.message);
}

/**
 * Events: `crash` (httpdid, reason) when a worker died because of a server's handler
 * (a catastrophic isolate error blamed on it); `console` (httpdid, time, lines) for handler output.
 */
export class WorkerPool extends EventEmitter {
  readonly #log: Log;
  readonly #slots: Slot[] = [];
  readonly #size: number;
  /** Totals of workers that are gone, so they survive restarts; worker restarts per server. */
  readonly #book = new StatsBook();
  #heartbeat: NodeJS.Timeout | null = null;
  #closing = false;
  /** A started, idle worker kept ready so that a dead one is replaced without waiting for a process to boot. */
  #spare: Promise<WorkerProcess> | null = null;

  private constructor(size: number, log: Log) {
    super();
    this.#size = size;
    this.#log = log;
  }

  /** Starts `size` workers and their heartbeat. */
  static async start(size: number, log: Log): Promise<WorkerPool> {
    const pool = new WorkerPool(size, log);
    await Promise.all(Array.from({ length: size }, () => pool.#addSlot(null)));
    pool.#refillSpare();
    pool.#heartbeat = setInterval(() => pool.#beat(), HEARTBEAT_MS);
    pool.#heartbeat.unref();
    return pool;
  }

  /** Number of pool workers (quarantine workers not included). */
  get size(): number {
    return this.#size;
  }

  /** Starts a new spare in the background (after one was taken, or at start). */
  #refillSpare(): void {
    if (this.#closing) return;
    const spare = WorkerProcess.start();
    spare.catch((err: unknown) => {
      this.#log.error({ err }, 'spare sandbox worker failed to start');
      if (this.#spare === spare) this.#spare = null;
    });
    this.#spare = spare;
  }

  /** A ready worker: the spare if there is a live one (then a new spare is started), else a new process. */
  async #takeWorker(): Promise<WorkerProcess> {
    const spare = this.#spare;
    this.#spare = null;
    this.#refillSpare();
    if (spare !== null) {
      try {
        const w = await spare;
        if (!w.exited) return w;
      } catch {
        // fall through to a fresh start
      }
    }
    return WorkerProcess.start();
  }

  async #addSlot(dedicatedTo: number | null): Promise<Slot> {
    const worker = dedicatedTo === null ? await WorkerProcess.start() : await this.#takeWorker();
    const slot: Slot = {
      index: this.#slots.length,
      dedicatedTo,
      worker: Promise.resolve(worker),
      live: worker,
      specs: new Map(),
      lastStats: {},
      restartDelay: RESTART_MIN_MS,
      blamed: null,
    };
    this.#slots.push(slot);
    this.#watch(slot, worker);
    return slot;
  }

  /** The `replicas` least-loaded shared slots, all distinct. @throws IsoError 400 if there are not that many workers. */
  place(replicas: number): number[] {
    const shared = this.#slots.filter((s) => s.dedicatedTo === null);
    if (replicas > shared.length) throw new IsoError('ISO_ERR_API_BAD_REQUEST', `body.replicas must be at most ${shared.length} (the number of workers)`);
    return [...shared]
      .sort((a, b) => a.specs.size - b.specs.size || a.index - b.index)
      .slice(0, replicas)
      .map((s) => s.index);
  }

  /** Hosts a server on a slot; resolves once that worker listens. */
  async deploy(slotIndex: number, spec: DeploySpec): Promise<void> {
    const slot = this.#slot(slotIndex);
    await hostOn(await slot.worker, spec);
    slot.specs.set(spec.httpdid, spec);
  }

  /** Stops hosting a server on a slot. A worker that is gone has closed its copy of the socket with it. */
  async undeploy(slotIndex: number, httpdid: number): Promise<void> {
    const slot = this.#slot(slotIndex);
    slot.specs.delete(httpdid);
    this.#retire(slot, httpdid);
    try {
      await (await slot.worker).request({ op: 'undeploy', httpdid });
    } catch (err) {
      this.#log.warn({ httpdid, worker: slotIndex, err }, 'undeploy did not reach the worker');
    }
  }

  /** A new worker of its own for one server. */
  async quarantine(httpdid: number): Promise<number> {
    return (await this.#addSlot(httpdid)).index;
  }

  /** Whether a slot is a quarantine slot. */
  isDedicated(slotIndex: number): boolean {
    return this.#slot(slotIndex).dedicatedTo !== null;
  }

  /** Outcome counts for a server so far (all replicas, all worker generations). */
  counts(httpdid: number): OutcomeCounts {
    return this.stats(httpdid).outcomes;
  }

  /** Traffic counters of a server so far (all replicas, all worker generations), as of the last heartbeats. */
  stats(httpdid: number): ServerStats {
    return this.#book.total(
      httpdid,
      this.#slots.flatMap((slot) => slot.lastStats[String(httpdid)] ?? []),
    );
  }

  /** Pid and runtime of every pool and quarantine worker up now (the spare not included). */
  workerRuntimes(): WorkerInfo[] {
    return this.#liveWorkers().map((w) => ({ pid: w.pid, ...w.runtime }));
  }

  /** Number of pool and quarantine workers up now (the spare not included). */
  workersUp(): number {
    return this.#liveWorkers().length;
  }

  /** The pool and quarantine workers up now (the spare not included). */
  #liveWorkers(): WorkerProcess[] {
    return this.#slots.flatMap((s) => (s.live !== null && !s.live.exited ? [s.live] : []));
  }

  /** Drops the retired totals of a server that is gone for good. */
  forget(httpdid: number): void {
    this.#book.forget(httpdid);
  }

  /** Moves the counts a slot reported for a server into the retired totals. */
  #retire(slot: Slot, httpdid: number, crashedInFlight = false): void {
    const c = slot.lastStats[String(httpdid)];
    if (c === undefined) return;
    // Requests in flight on a worker that died are counted as crashed.
    this.#book.retire(httpdid, c, crashedInFlight);
    delete slot.lastStats[String(httpdid)];
  }

  /**
   * Hot redeploy, step 1: compiles `spec`'s source with its limits next to the serving version on
   * every slot, in parallel. Any failure drops what was prepared elsewhere and rejects (the old
   * version serves on, untouched).
   * @throws IsoError 422 (source), 503 (a worker went away), 500.
   */
  async prepare(slotIndexes: readonly number[], spec: DeploySpec): Promise<PreparedRedeploy> {
    const { httpdid } = spec;
    const slots = slotIndexes.map((i) => this.#slot(i));
    const results = await Promise.allSettled(
      slots.map(async (slot) => {
        const worker = await slot.worker;
        await step(worker, { op: 'prepare', httpdid, source: spec.source, limits: spec.limits });
        return { slot, worker };
      }),
    );
    const prepared = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const abort = async (): Promise<void> => {
      await Promise.all(prepared.map(({ worker }) => step(worker, { op: 'abort', httpdid }).catch(() => undefined)));
    };
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await abort();
      throw failed.reason;
    }
    const commit = async (): Promise<void> => {
      // From now on a replaced worker hosts the new version.
      for (const slot of slots) if (slot.specs.has(httpdid)) slot.specs.set(httpdid, spec);
      await Promise.all(
        prepared.map(async ({ slot, worker }) => {
          try {
            await step(worker, { op: 'commit', httpdid });
          } catch (err) {
            this.#log.warn({ httpdid, worker: slot.index, err }, 'redeploy commit did not reach the worker; preparing again on its current worker');
            await this.#swapOn(slot, spec);
          }
        }),
      );
    };
    return { commit, abort };
  }

  /** Prepares and commits on a slot's current worker (after its worker was replaced during a redeploy). */
  async #swapOn(slot: Slot, spec: DeploySpec): Promise<void> {
    try {
      const worker = await slot.worker;
      await step(worker, { op: 'prepare', httpdid: spec.httpdid, source: spec.source, limits: spec.limits });
      await step(worker, { op: 'commit', httpdid: spec.httpdid });
    } catch (err) {
      this.#log.error({ httpdid: spec.httpdid, worker: slot.index, err }, 'redeploy on a replaced worker failed');
    }
  }

  #slot(index: number): Slot {
    const slot = this.#slots[index];
    if (slot === undefined) throw new IsoError('ISO_ERR_API_INTERNAL', `no worker slot ${index}`);
    return slot;
  }

  #beat(): void {
    for (const slot of this.#slots) {
      void slot.worker.then(
        async (worker) => {
          if (worker.exited) return;
          try {
            const reply = await worker.request({ op: 'ping' }, undefined, HEARTBEAT_DEADLINE_MS);
            if (reply.ok && reply.stats !== undefined) slot.lastStats = { ...reply.stats };
          } catch {
            if (worker.exited || this.#closing) return;
            this.#log.error({ worker: slot.index, pid: worker.pid }, `sandbox worker missed its heartbeat (${HEARTBEAT_DEADLINE_MS} ms); killing it`);
            await worker.kill();
          }
        },
        () => undefined,
      );
    }
  }

  #watch(slot: Slot, worker: WorkerProcess): void {
    worker.on('message', (msg: FromWorker) => {
      if (msg.op === 'outcome') {
        this.#log.warn({ httpdid: msg.httpdid, outcome: msg.outcome, detail: msg.detail }, 'handler request did not end ok');
      } else if (msg.op === 'throttled') {
        this.#log.warn(
          { httpdid: msg.httpdid, share: Number(msg.share.toFixed(2)), coolDownMs: msg.coolDownMs, refusedBefore: msg.refusedBefore },
          'server over its CPU share; its new requests get 503 during a cool-down',
        );
      } else if (msg.op === 'console') {
        this.emit('console', msg.httpdid, msg.time, msg.lines);
      } else if (msg.op === 'catastrophic') {
        slot.blamed = msg.httpdid;
        this.#log.error({ httpdid: msg.httpdid, worker: slot.index, detail: msg.message }, 'catastrophic isolate error; the worker is being replaced');
      }
    });
    worker.once('exit', (code: number | null, signal: string | null) => {
      if (slot.live === worker) slot.live = null;
      if (this.#closing) return;
      for (const httpdid of slot.specs.keys()) {
        this.#retire(slot, httpdid, true);
        this.#book.restarted(httpdid);
      }
      slot.lastStats = {};
      const blamed = slot.blamed;
      slot.blamed = null;
      this.#log.error({ worker: slot.index, pid: worker.pid, code, signal }, 'sandbox worker exited; starting a replacement');
      if (blamed !== null) this.emit('crash', blamed, 'its handler crashed the sandbox worker (catastrophic isolate error)');
      slot.worker = this.#restart(slot);
      slot.worker.catch(() => undefined);
    });
  }

  async #restart(slot: Slot): Promise<WorkerProcess> {
    // The first replacement is immediate (from the spare); a worker that keeps dying backs off.
    let delay = slot.restartDelay === RESTART_MIN_MS ? 0 : slot.restartDelay;
    for (;;) {
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      slot.restartDelay = Math.min(slot.restartDelay * 2, RESTART_MAX_MS);
      delay = slot.restartDelay;
      if (this.#closing) throw new IsoError('ISO_ERR_API_WORKER_UNAVAILABLE', 'the service is stopping');
      let worker: WorkerProcess;
      try {
        worker = await this.#takeWorker();
      } catch (err) {
        this.#log.error({ worker: slot.index, err }, 'sandbox worker failed to start; retrying');
        continue;
      }
      for (const spec of slot.specs.values()) {
        try {
          await hostOn(worker, spec);
        } catch (err) {
          this.#log.error({ httpdid: spec.httpdid, err }, 'redeploy after worker restart failed');
        }
      }
      this.#log.info({ worker: slot.index, pid: worker.pid, servers: slot.specs.size }, 'sandbox worker replaced');
      setTimeout(() => {
        if (!worker.exited) slot.restartDelay = RESTART_MIN_MS;
      }, 10_000).unref();
      this.#watch(slot, worker);
      slot.live = worker;
      return worker;
    }
  }

  /** Process ids of the live workers, by slot (for tests and diagnostics). */
  async pids(): Promise<number[]> {
    return Promise.all(this.#slots.map(async (s) => (await s.worker).pid));
  }

  /** Asks every worker to close its listeners and wait for its requests in flight (at most `timeoutMs`). */
  async drain(timeoutMs: number): Promise<void> {
    await Promise.all(
      this.#slots.map(async (s) => {
        try {
          await (await s.worker).request({ op: 'drain', timeoutMs }, undefined, timeoutMs + 2000);
        } catch (err) {
          this.#log.warn({ err, worker: s.index }, 'worker did not drain');
        }
      }),
    );
  }

  /** Stops the heartbeat and kills every worker. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    const spare = this.#spare;
    this.#spare = null;
    await spare?.then(
      (w) => w.kill(),
      () => undefined,
    );
    await Promise.all(
      this.#slots.map(async (s) => {
        try {
          await (await s.worker).kill();
        } catch {
          // never started
        }
      }),
    );
  }
}
