// The supervised pool of sandbox worker processes: its slots, placement of replicas, replacement of dead workers, crash blame, traffic totals.

import { EventEmitter } from 'node:events';
import { IsoError } from '../../core/errors.js';
import { DRAIN_REPLY_SLACK_MS, RETIRE_DRAIN_MS } from '../../core/supervision.js';
import type { FromWorker, Reply, WorkerInfo } from '../../host/worker/protocol.js';
import { Heartbeat } from './heartbeat.js';
import type { Log } from './log.js';
import { prepareRedeploy, type PreparedRedeploy } from './redeploy.js';
import { RestartBackoff } from './restart-policy.js';
import { StatsBook, type OutcomeCounts, type ServerStats } from './server-stats.js';
import { hostOn, type DeploySpec, type Slot } from './slot.js';
import { Spare } from './spare.js';
import { WorkerProcess } from './worker-process.js';

export type { Log } from './log.js';
export type { PreparedRedeploy } from './redeploy.js';
export type { OutcomeCounts, ServerStats } from './server-stats.js';
export type { DeploySpec } from './slot.js';

/**
 * Events: `crash` (httpdid, reason) when a worker died while a server's request was running in it
 * (or a catastrophic isolate error was blamed on it), once per blamed server; `console` (httpdid,
 * time, lines) for handler output.
 */
export class WorkerPool extends EventEmitter {
  readonly #log: Log;
  readonly #slots: Slot[] = [];
  readonly #size: number;
  /** Totals of workers that are gone, so they survive restarts; worker restarts per server. */
  readonly #book = new StatsBook();
  readonly #spare: Spare;
  #heartbeat: Heartbeat | null = null;
  #closing = false;

  private constructor(size: number, log: Log) {
    super();
    this.#size = size;
    this.#log = log;
    this.#spare = new Spare(log);
  }

  /** Starts `size` workers and their heartbeat. */
  static async start(size: number, log: Log): Promise<WorkerPool> {
    const pool = new WorkerPool(size, log);
    await Promise.all(Array.from({ length: size }, () => pool.#addSlot(null)));
    pool.#spare.refill();
    pool.#heartbeat = new Heartbeat(
      () => pool.#slots,
      log,
      () => pool.#closing,
    );
    return pool;
  }

  /** Number of pool workers (quarantine workers not included). */
  get size(): number {
    return this.#size;
  }

  async #addSlot(dedicatedTo: number | null): Promise<Slot> {
    const worker = dedicatedTo === null ? await WorkerProcess.start() : await this.#spare.take();
    const slot: Slot = {
      index: this.#slots.length,
      dedicatedTo,
      worker: Promise.resolve(worker),
      live: worker,
      specs: new Map(),
      lastStats: {},
      backoff: new RestartBackoff(),
      restarting: false,
      retiring: null,
      draining: new Map(),
      running: new Map(),
      killedFor: null,
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
    // A worker being retired (or draining) still has its copy of the socket: it stops serving the server too.
    for (const old of [slot.retiring, ...slot.draining.keys()]) {
      if (old !== null && !old.exited) void old.request({ op: 'undeploy', httpdid }).catch(() => undefined);
    }
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
    const id = String(httpdid);
    return this.#book.total(
      httpdid,
      this.#slots.flatMap((slot) => [slot.lastStats[id], ...[...slot.draining.values()].map((d) => d[id])].filter((c) => c !== undefined)),
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

  /** Moves the counts a slot reported for a server into the retired totals, with `crashed` requests lost (its worker died running them). */
  #retire(slot: Slot, httpdid: number, crashed = 0): void {
    const c = slot.lastStats[String(httpdid)];
    delete slot.lastStats[String(httpdid)];
    if (c === undefined && crashed === 0) return;
    this.#book.retire(httpdid, c, crashed);
  }

  /**
   * Hot redeploy, step 1: compiles `spec`'s source with its limits next to the serving version on
   * every slot given, in parallel (see src/api/supervisor/redeploy.ts).
   * @throws IsoError 422 (source), 503 (a worker went away), 500.
   */
  prepare(slotIndexes: readonly number[], spec: DeploySpec): Promise<PreparedRedeploy> {
    const slots = slotIndexes.map((i) => this.#slot(i));
    return prepareRedeploy(slots, spec, this.#log);
  }

  #slot(index: number): Slot {
    const slot = this.#slots[index];
    if (slot === undefined) throw new IsoError('ISO_ERR_API_INTERNAL', `no worker slot ${index}`);
    return slot;
  }

  #watch(slot: Slot, worker: WorkerProcess): void {
    worker.on('reply', (msg: Reply) => {
      // A heartbeat answer: who runs a request now (replaces what the worker said before).
      if (msg.ok && msg.running !== undefined && slot.live === worker) {
        slot.running = new Map(msg.running.map((id) => [id, msg.stats?.[String(id)]?.inFlight ?? 1]));
      }
    });
    worker.on('message', (msg: FromWorker) => {
      if (msg.op === 'running') {
        // Only the serving worker's: a retired one draining is not whom a crash of the slot is charged to.
        if (slot.live !== worker) return;
        for (const [id, n] of Object.entries(msg.inFlight)) {
          if (n > 0) slot.running.set(Number(id), n);
          else slot.running.delete(Number(id));
        }
      } else if (msg.op === 'outcome') {
        this.#log.warn({ httpdid: msg.httpdid, outcome: msg.outcome, detail: msg.detail }, 'handler request did not end ok');
      } else if (msg.op === 'throttled') {
        this.#log.warn(
          { httpdid: msg.httpdid, share: Number(msg.share.toFixed(2)), coolDownMs: msg.coolDownMs, refusedBefore: msg.refusedBefore },
          'server over its CPU share; its new requests get 503 during a cool-down',
        );
      } else if (msg.op === 'console') {
        this.emit('console', msg.httpdid, msg.time, msg.lines);
      } else if (msg.op === 'retire') {
        this.#retireWorker(slot, worker, msg.httpdid, msg.message);
      }
    });
    worker.once('exit', (code: number | null, signal: string | null) => this.#exited(slot, worker, code, signal));
  }

  /**
   * A slot's worker exited, in whatever state (serving, being given its servers, retired and
   * draining): charge the servers whose requests were running in the serving one, log the exit once
   * with its cause, and have a replacement started (after the slot's back-off; never given up).
   */
  #exited(slot: Slot, worker: WorkerProcess, code: number | null, signal: string | null): void {
    const current = slot.live === worker;
    if (current) slot.live = null;
    if (slot.retiring === worker) slot.retiring = null;
    if (this.#closing) return;
    const signalOrCode = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
    if (slot.draining.has(worker)) {
      this.#log.info({ worker: slot.index, pid: worker.pid, code, signal }, `retired sandbox worker stopped (${signalOrCode})`);
      return;
    }
    if (!current) {
      // A replacement that died while it was being given its servers: it was running nothing, and
      // the attempt that started it notices and starts the next one.
      this.#log.error(
        { worker: slot.index, pid: worker.pid, code, signal, cause: signalOrCode, httpdids: [], redeploying: true },
        `sandbox worker exited (${signalOrCode}) while its servers were being hosted on it; starting another`,
      );
      return;
    }
    const running = slot.running;
    const killedFor = slot.killedFor;
    slot.running = new Map();
    slot.killedFor = null;
    const blamed = [...running.keys()].filter((id) => slot.specs.has(id));
    for (const httpdid of slot.specs.keys()) {
      const lost = blamed.includes(httpdid) ? Math.max(running.get(httpdid) ?? 0, 1) : 0;
      this.#retire(slot, httpdid, lost);
      if (lost > 0) this.#book.restarted(httpdid);
    }
    slot.lastStats = {};
    const cause = killedFor ?? signalOrCode;
    this.#log.error(
      { worker: slot.index, pid: worker.pid, code, signal, cause, httpdid: blamed[0] ?? null, httpdids: blamed, redeploying: false },
      `sandbox worker exited (${cause}); starting a replacement`,
    );
    for (const httpdid of blamed) this.emit('crash', httpdid, `it crashed the sandbox worker (its request was running when the worker died: ${cause})`);
    this.#replace(slot);
  }

  /**
   * The worker lost control of one of `httpdid`'s isolates (it said `retire`): the server is charged
   * with the worker (crash policy included), the slot's servers are hosted on a fresh worker while
   * this one serves on, then it is drained and killed: neighbours lose no request.
   */
  #retireWorker(slot: Slot, worker: WorkerProcess, httpdid: number, message: string): void {
    if (this.#closing || worker.exited || (slot.live !== worker && slot.retiring !== worker)) return;
    const first = slot.retiring !== worker;
    slot.retiring = worker;
    if (slot.specs.has(httpdid)) this.#book.restarted(httpdid);
    this.#log.error(
      { worker: slot.index, pid: worker.pid, cause: message, httpdid, httpdids: [httpdid], moving: slot.specs.size },
      first
        ? `sandbox worker retired (isolated-vm lost control of an isolate: ${message}); its servers move to a fresh worker, then it is drained and stopped`
        : `sandbox worker being retired lost another isolate (${message})`,
    );
    this.emit('crash', httpdid, `it crashed the sandbox worker (isolated-vm lost control of its isolate: ${message})`);
    if (first && !slot.restarting) this.#replace(slot);
  }

  /** Has a replacement started for a slot, unless one is being started already. */
  #replace(slot: Slot): void {
    if (slot.restarting) return;
    slot.restarting = true;
    slot.worker = this.#restart(slot).finally(() => {
      slot.restarting = false;
    });
    slot.worker.catch(() => undefined);
  }

  /**
   * Starts a replacement worker for a slot (after its back-off) and hosts the slot's servers on it;
   * one that dies meanwhile is followed by the next attempt. Once it serves, a worker being retired
   * (still serving until then) is drained and killed.
   */
  async #restart(slot: Slot): Promise<WorkerProcess> {
    for (;;) {
      const delay = slot.backoff.next();
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      if (this.#closing) throw new IsoError('ISO_ERR_API_WORKER_UNAVAILABLE', 'the service is stopping');
      let worker: WorkerProcess;
      try {
        worker = await this.#spare.take();
      } catch (err) {
        this.#log.error({ worker: slot.index, err }, 'sandbox worker failed to start; retrying');
        continue;
      }
      if (worker.exited) continue;
      this.#watch(slot, worker);
      for (const spec of slot.specs.values()) {
        if (worker.exited) break;
        try {
          await hostOn(worker, spec);
          // Stopped meanwhile (undeploy reached the slot while this worker was being given it): stop it here too.
          if (!slot.specs.has(spec.httpdid)) await worker.request({ op: 'undeploy', httpdid: spec.httpdid });
        } catch (err) {
          this.#log.error({ httpdid: spec.httpdid, err }, 'redeploy after worker restart failed');
        }
      }
      if (worker.exited) continue;
      if (this.#closing) throw new IsoError('ISO_ERR_API_WORKER_UNAVAILABLE', 'the service is stopping');
      const old = slot.retiring;
      if (old !== null && !old.exited) this.#drainRetired(slot, old);
      slot.retiring = null;
      this.#log.info({ worker: slot.index, pid: worker.pid, servers: slot.specs.size }, 'sandbox worker replaced');
      slot.backoff.started(() => !worker.exited);
      slot.running = new Map();
      slot.killedFor = null;
      slot.live = worker;
      return worker;
    }
  }

  /**
   * A retired worker, now that its replacement serves: its counters are kept apart, it stops
   * accepting, closes idle connections, finishes what it has in flight (at most
   * {@link RETIRE_DRAIN_MS}), and is killed; its final counters go to the retired totals.
   */
  #drainRetired(slot: Slot, old: WorkerProcess): void {
    slot.draining.set(old, slot.lastStats);
    slot.lastStats = {};
    void (async () => {
      try {
        const reply = await old.request({ op: 'drain', timeoutMs: RETIRE_DRAIN_MS }, undefined, RETIRE_DRAIN_MS + DRAIN_REPLY_SLACK_MS);
        if (reply.ok && reply.stats !== undefined) slot.draining.set(old, { ...reply.stats });
      } catch (err) {
        this.#log.warn({ worker: slot.index, pid: old.pid, err }, 'retired worker did not drain');
      }
      await old.kill();
      const last = slot.draining.get(old) ?? {};
      slot.draining.delete(old);
      for (const [id, c] of Object.entries(last)) if (slot.specs.has(Number(id))) this.#book.retire(Number(id), c, 0);
    })();
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
          await (await s.worker).request({ op: 'drain', timeoutMs }, undefined, timeoutMs + DRAIN_REPLY_SLACK_MS);
        } catch (err) {
          this.#log.warn({ err, worker: s.index }, 'worker did not drain');
        }
      }),
    );
  }

  /** Stops the heartbeat and kills every worker. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#heartbeat?.stop();
    await this.#spare.close();
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
