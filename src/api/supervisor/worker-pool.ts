// The supervised pool of sandbox worker processes: its slots, placement of replicas, replacement of dead workers, crash blame, traffic totals.

import { EventEmitter } from 'node:events';
import { IsoError } from '../../core/errors.js';
import { DRAIN_REPLY_SLACK_MS, FRESH_STATS_WAIT_MS } from '../../core/supervision.js';
import type { FromWorker, Reply, ServerCounters, WorkerInfo, WorkerOptions } from '../../host/worker/protocol.js';
import { Heartbeat } from './heartbeat.js';
import type { Log } from './log.js';
import { prepareRedeploy, type PreparedRedeploy } from './redeploy.js';
import { RestartBackoff } from './restart-policy.js';
import { SlotKeeper } from './slot-keeper.js';
import { StatsBook, type OutcomeCounts, type ServerStats } from './server-stats.js';
import { hostOn, type DeploySpec, type Slot } from './slot.js';
import { type CheckSpec, checkOn, checkSlot } from './source-check.js';
import { Spare } from './spare.js';
import { WorkerProcess } from './worker-process.js';

export type { Log } from './log.js';
export type { PreparedRedeploy } from './redeploy.js';
export type { OutcomeCounts, ServerStats } from './server-stats.js';
export type { DeploySpec } from './slot.js';
export type { CheckSpec } from './source-check.js';

/**
 * Events: `crash` (httpdid, reason) when a worker died while a server's request was running in it
 * (or a catastrophic isolate error was blamed on it), once per blamed server; `console` (httpdid,
 * time, lines) for handler output; `tail` (httpdid, events, dropped) for the requests of a tailed server.
 */
export class WorkerPool extends EventEmitter {
  readonly #log: Log;
  readonly #slots: Slot[] = [];
  readonly #size: number;
  /** Totals of workers that are gone, so they survive restarts; worker restarts per server. */
  readonly #book = new StatsBook();
  readonly #spare: Spare;
  /** What every worker of the pool is forked with. */
  readonly #options: WorkerOptions;
  readonly #keeper: SlotKeeper;
  #heartbeat: Heartbeat | null = null;
  #closing = false;
  /** The servers someone tails (every worker is told; a new one when it starts serving). */
  #tailed: readonly number[] = [];

  private constructor(size: number, log: Log, options: WorkerOptions) {
    super();
    this.#size = size;
    this.#log = log;
    this.#options = options;
    this.#spare = new Spare(log, options);
    this.#keeper = new SlotKeeper({
      log,
      book: this.#book,
      spare: this.#spare,
      closing: () => this.#closing,
      watch: (slot, worker) => this.#watch(slot, worker),
      crash: (httpdid, reason) => this.emit('crash', httpdid, reason),
      retireCounts: (slot, httpdid, crashed) => this.#retire(slot, httpdid, crashed),
    });
  }

  /** Starts `size` workers, forked with `options`, and their heartbeat. */
  static async start(size: number, log: Log, options: WorkerOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(size, log, options);
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
    const worker = dedicatedTo === null ? await WorkerProcess.start(this.#options) : await this.#spare.take();
    const slot: Slot = {
      index: this.#slots.length,
      dedicatedTo,
      worker: Promise.resolve(worker),
      live: worker,
      specs: new Map(),
      lastStats: {},
      statsAt: performance.now(),
      backoff: new RestartBackoff(),
      restarting: false,
      retiring: null,
      draining: new Map(),
      running: new Map(),
      killedFor: null,
      checks: 0,
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

  /**
   * Stops hosting a server on a slot. A worker that is gone has closed its copy of the socket with it.
   * @param drainMs wind it down first (its requests in flight finished, at most this long, ms): it moves to another worker
   */
  async undeploy(slotIndex: number, httpdid: number, drainMs?: number): Promise<void> {
    const op = drainMs === undefined ? { op: 'undeploy' as const, httpdid } : { op: 'undeploy' as const, httpdid, drainMs };
    const slot = this.#slot(slotIndex);
    slot.specs.delete(httpdid);
    this.#retire(slot, httpdid);
    // A worker being retired (or draining) still has its copy of the socket: it stops serving the server too.
    for (const old of [slot.retiring, ...slot.draining.keys()]) {
      if (old !== null && !old.exited) void old.request(op).catch(() => undefined);
    }
    try {
      await (await slot.worker).request(op);
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
    const now = performance.now();
    let ageMs = 0;
    const live = this.#slots.flatMap((slot) => {
      const c = slot.lastStats[id];
      if (c !== undefined) ageMs = Math.max(ageMs, now - slot.statsAt);
      return [c, ...[...slot.draining.values()].map((d) => d[id])].filter((x) => x !== undefined);
    });
    return { ...this.#book.total(httpdid, live), ageMs: Math.round(ageMs) };
  }

  /**
   * Reads every live worker's counters now (for an API call: a response received before it is
   * counted), waiting at most `timeoutMs` for each; a worker that does not answer in time keeps its
   * last heartbeat's figures (their age is in {@link ServerStats.ageMs}).
   */
  async refresh(timeoutMs: number = FRESH_STATS_WAIT_MS): Promise<void> {
    const read = async (worker: WorkerProcess, keep: (stats: Record<string, ServerCounters>) => void): Promise<void> => {
      if (worker.exited) return;
      try {
        const reply = await worker.request({ op: 'stats' }, undefined, timeoutMs);
        if (reply.ok && reply.stats !== undefined) keep({ ...reply.stats });
      } catch {
        // Not in time: the last figures stand.
      }
    };
    await Promise.all(
      this.#slots.flatMap((slot) => {
        const worker = slot.live;
        const reads = [...slot.draining.keys()].map((old) =>
          // A retired worker draining (up to RETIRE_DRAIN_MS) still answers: what it counted since its last heartbeat is counted now.
          read(old, (stats) => {
            if (slot.draining.has(old)) slot.draining.set(old, stats);
          }),
        );
        if (worker !== null) {
          reads.push(
            read(worker, (stats) => {
              if (slot.live !== worker) return;
              slot.lastStats = stats;
              slot.statsAt = performance.now();
            }),
          );
        }
        return reads;
      }),
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

  /**
   * Compile check: instantiates `spec`'s source on the least loaded live worker as a deploy would,
   * then disposes it (nothing is bound, served or hosted; see src/api/supervisor/source-check.ts).
   * @throws IsoError 422 ISO_ERR_API_INVALID_SOURCE with the message a deploy gives, 503 (the worker went away), 500.
   */
  check(spec: CheckSpec): Promise<void> {
    return checkOn(checkSlot(this.#slots), spec);
  }

  #slot(index: number): Slot {
    const slot = this.#slots[index];
    if (slot === undefined) throw new IsoError('ISO_ERR_API_INTERNAL', `no worker slot ${index}`);
    return slot;
  }

  /** Tells every worker which servers are tailed now (their request events then come as `tail` events); resolves once each answered (or failed: logged). */
  async setTailed(httpdids: readonly number[]): Promise<void> {
    this.#tailed = httpdids;
    await Promise.all(this.#slots.map((s) => this.#tellTailed(s.live)));
  }

  async #tellTailed(worker: WorkerProcess | null): Promise<void> {
    if (worker === null || worker.exited) return;
    try {
      await worker.request({ op: 'tail', httpdids: this.#tailed });
    } catch (err) {
      this.#log.warn({ pid: worker.pid, err: (err as Error).message }, 'could not tell a sandbox worker which servers are tailed');
    }
  }

  #watch(slot: Slot, worker: WorkerProcess): void {
    if (this.#tailed.length > 0) void this.#tellTailed(worker);
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
        this.#log.warn({ httpdid: msg.httpdid, outcome: msg.outcome, requestId: msg.requestId, detail: msg.detail }, 'handler request did not end ok');
        this.emit('request', msg);
      } else if (msg.op === 'throttled') {
        this.#log.warn(
          { httpdid: msg.httpdid, share: Number(msg.share.toFixed(2)), coolDownMs: msg.coolDownMs, refusedBefore: msg.refusedBefore },
          'server over its CPU share; its new requests get 503 during a cool-down',
        );
      } else if (msg.op === 'console') {
        this.emit('console', msg.httpdid, msg.time, msg.lines);
      } else if (msg.op === 'tail') {
        this.emit('tail', msg.httpdid, msg.events, msg.dropped ?? 0);
      } else if (msg.op === 'memory') {
        const { httpdid, action, rssMb, budgetMb } = msg;
        this.#log.warn(
          { worker: slot.index, pid: worker.pid, httpdid, action, rssMb, budgetMb },
          action === 'reset'
            ? "sandbox worker's resident set over its budget; the isolate of the server to blame was reset"
            : "sandbox worker's resident set still over its budget after the reset; the worker is retired",
        );
      } else if (msg.op === 'proxyRefused') {
        this.#log.warn(
          { worker: slot.index, pid: worker.pid, peer: msg.peer, reason: msg.reason, count: msg.count },
          'connection from a balancer address closed at its PROXY header (see proxyProtocol in docs/security.md)',
        );
      } else if (msg.op === 'retire') {
        this.#keeper.retire(slot, worker, msg.httpdid, msg.message);
      }
    });
    worker.once('exit', (code: number | null, signal: string | null) => this.#keeper.exited(slot, worker, code, signal));
  }

  /** Process ids of the live workers, by slot (for tests and diagnostics). */
  async pids(): Promise<number[]> {
    return Promise.all(this.#slots.map(async (s) => (await s.worker).pid));
  }

  /** Asks every worker to close its listeners and wait for its requests in flight (at most `timeoutMs`). */
  async drain(timeoutMs: number): Promise<void> {
    // Stopping from here on: a worker that exits now is not replaced, none is killed for a missed heartbeat.
    this.#closing = true;
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

  /** Stops the heartbeat and kills every worker, a retired one still draining included. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#heartbeat?.stop();
    await this.#spare.close();
    await Promise.all(
      this.#slots.flatMap((s) => [
        (async () => {
          try {
            await (await s.worker).kill();
          } catch {
            // never started
          }
        })(),
        ...[s.retiring, ...s.draining.keys()].map((old) => old?.kill()),
      ]),
    );
  }
}
