// The supervised pool of sandbox worker processes: placement of replicas, heartbeats, replacement, crash accounting, quarantine.

import { EventEmitter } from 'node:events';
import { IsoError } from '../errors.js';
import type { Limits } from '../limits.js';
import { OUTCOMES, type Outcome } from '../outcome.js';
import type { BoundHandle } from '../host/bind.js';
import type { FromWorker, ServerCounters } from '../host/worker-protocol.js';
import { WorkerProcess } from '../host/worker-process.js';

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

/** Outcome counts of one server across all its replicas and all the workers it has lived on. */
export type OutcomeCounts = Record<Outcome, number>;

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

const zero = (): OutcomeCounts => Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;

/**
 * Events: `crash` (httpdid, reason) when a worker died because of a server's handler
 * (a catastrophic isolate error blamed on it); `console` (httpdid, time, lines) for handler output.
 */
export class WorkerPool extends EventEmitter {
  readonly #log: Log;
  readonly #slots: Slot[] = [];
  readonly #size: number;
  /** Counts of workers that are gone, by httpdid, so totals survive restarts. */
  readonly #retired = new Map<number, OutcomeCounts>();
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
      index: this.#slots.length, dedicatedTo, worker: Promise.resolve(worker), specs: new Map(),
      lastStats: {}, restartDelay: RESTART_MIN_MS, blamed: null,
    };
    this.#slots.push(slot);
    this.#watch(slot, worker);
    return slot;
  }

  /** The `replicas` least-loaded shared slots, all distinct. @throws IsoError 400 if there are not that many workers. */
  place(replicas: number): number[] {
    const shared = this.#slots.filter((s) => s.dedicatedTo === null);
    if (replicas > shared.length) throw new IsoError('ISO_ERR_API_BAD_REQUEST', `body.replicas must be at most ${shared.length} (the number of workers)`);
    return [...shared].sort((a, b) => a.specs.size - b.specs.size || a.index - b.index).slice(0, replicas).map((s) => s.index);
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
    const total = { ...(this.#retired.get(httpdid) ?? zero()) };
    for (const slot of this.#slots) {
      const c = slot.lastStats[String(httpdid)];
      if (c !== undefined) for (const o of OUTCOMES) total[o] += c.outcomes[o];
    }
    return total;
  }

  /** Moves the counts a slot reported for a server into the retired totals. */
  #retire(slot: Slot, httpdid: number, crashedInFlight = false): void {
    const c = slot.lastStats[String(httpdid)];
    if (c === undefined) return;
    const acc = this.#retired.get(httpdid) ?? zero();
    for (const o of OUTCOMES) acc[o] += c.outcomes[o];
    // Requests in flight on a worker that died are counted as crashed.
    if (crashedInFlight) acc.crashed += c.inFlight;
    this.#retired.set(httpdid, acc);
    delete slot.lastStats[String(httpdid)];
  }

  #slot(index: number): Slot {
    const slot = this.#slots[index];
    if (slot === undefined) throw new IsoError('ISO_ERR_API_INTERNAL', `no worker slot ${index}`);
    return slot;
  }

  #beat(): void {
    for (const slot of this.#slots) {
      void slot.worker.then(async (worker) => {
        if (worker.exited) return;
        try {
          const reply = await worker.request({ op: 'ping' }, undefined, HEARTBEAT_DEADLINE_MS);
          if (reply.ok && reply.stats !== undefined) slot.lastStats = { ...reply.stats };
        } catch {
          if (worker.exited || this.#closing) return;
          this.#log.error({ worker: slot.index, pid: worker.pid }, `sandbox worker missed its heartbeat (${HEARTBEAT_DEADLINE_MS} ms); killing it`);
          await worker.kill();
        }
      }, () => undefined);
    }
  }

  #watch(slot: Slot, worker: WorkerProcess): void {
    worker.on('message', (msg: FromWorker) => {
      if (msg.op === 'outcome') {
        this.#log.warn({ httpdid: msg.httpdid, outcome: msg.outcome, detail: msg.detail }, 'handler request did not end ok');
      } else if (msg.op === 'throttled') {
        this.#log.warn({ httpdid: msg.httpdid, share: Number(msg.share.toFixed(2)), coolDownMs: msg.coolDownMs, refusedBefore: msg.refusedBefore }, 'server over its CPU share; its new requests get 503 during a cool-down');
      } else if (msg.op === 'console') {
        this.emit('console', msg.httpdid, msg.time, msg.lines);
      } else if (msg.op === 'catastrophic') {
        slot.blamed = msg.httpdid;
        this.#log.error({ httpdid: msg.httpdid, worker: slot.index, detail: msg.message }, 'catastrophic isolate error; the worker is being replaced');
      }
    });
    worker.once('exit', (code: number | null, signal: string | null) => {
      if (this.#closing) return;
      for (const httpdid of slot.specs.keys()) this.#retire(slot, httpdid, true);
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
      setTimeout(() => { if (!worker.exited) slot.restartDelay = RESTART_MIN_MS; }, 10_000).unref();
      this.#watch(slot, worker);
      return worker;
    }
  }

  /** Process ids of the live workers, by slot (for tests and diagnostics). */
  async pids(): Promise<number[]> {
    return Promise.all(this.#slots.map(async (s) => (await s.worker).pid));
  }

  /** Stops the heartbeat and kills every worker. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    const spare = this.#spare;
    this.#spare = null;
    await spare?.then((w) => w.kill(), () => undefined);
    await Promise.all(this.#slots.map(async (s) => {
      try {
        await (await s.worker).kill();
      } catch {
        // never started
      }
    }));
  }
}
