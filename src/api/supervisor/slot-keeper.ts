// Keeping a pool slot filled: a worker's exit charged to the servers it was running and followed by a replacement (back-off, never given up); a worker that lost an isolate retired, its servers moved to a fresh worker before it is drained and killed.

import { IsoError } from '../../core/errors.js';
import { DRAIN_REPLY_SLACK_MS, RETIRE_DRAIN_MS } from '../../core/supervision.js';
import type { Log } from './log.js';
import type { StatsBook } from './server-stats.js';
import { hostOn, type Slot } from './slot.js';
import type { Spare } from './spare.js';
import type { WorkerProcess } from './worker-process.js';

/** What the slot keeper needs of its pool. */
export interface SlotKeeperDeps {
  readonly log: Log;
  /** The retired totals and worker restarts per server. */
  readonly book: StatsBook;
  readonly spare: Spare;
  /** Whether the pool is stopping (no replacement then). */
  closing(): boolean;
  /** Watches a worker just put in a slot (its messages, its exit). */
  watch(slot: Slot, worker: WorkerProcess): void;
  /** A server is blamed for its worker (the pool's `crash` event, the crash policy's input). */
  crash(httpdid: number, reason: string): void;
  /** Moves the counts a slot's worker reported for a server into the retired totals, `crashed` requests lost. */
  retireCounts(slot: Slot, httpdid: number, crashed: number): void;
}

/** Replaces the workers of the pool's slots: after an exit, and to retire one (see {@link SlotKeeper.retire}). */
export class SlotKeeper {
  readonly #deps: SlotKeeperDeps;

  constructor(deps: SlotKeeperDeps) {
    this.#deps = deps;
  }

  /**
   * A slot's worker exited, in whatever state (serving, being given its servers, retired and
   * draining): charge the servers whose requests were running in the serving one, log the exit once
   * with its cause, and have a replacement started (after the slot's back-off; never given up).
   */
  exited(slot: Slot, worker: WorkerProcess, code: number | null, signal: string | null): void {
    const current = slot.live === worker;
    if (current) slot.live = null;
    if (slot.retiring === worker) slot.retiring = null;
    const signalOrCode = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
    if (this.#deps.closing()) {
      this.#deps.log.info({ worker: slot.index, pid: worker.pid, code, signal, cause: signalOrCode }, `sandbox worker stopped (${signalOrCode}) as the service stops`);
      return;
    }
    if (slot.draining.has(worker)) {
      this.#deps.log.info({ worker: slot.index, pid: worker.pid, code, signal }, `retired sandbox worker stopped (${signalOrCode})`);
      return;
    }
    if (!current) {
      // A replacement that died while it was being given its servers: it was running nothing, and
      // the attempt that started it notices and starts the next one.
      this.#deps.log.error(
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
      this.#deps.retireCounts(slot, httpdid, lost);
      if (lost > 0) this.#deps.book.restarted(httpdid);
    }
    slot.lastStats = {};
    const cause = killedFor ?? signalOrCode;
    // A compile check's module (src/api/supervisor/source-check.ts) belongs to no server yet: it is charged to none.
    const checks = slot.checks > 0 ? `; ${slot.checks} compile check(s) were running on it, attributed to no server (none exists yet)` : '';
    this.#deps.log.error(
      { worker: slot.index, pid: worker.pid, code, signal, cause, httpdid: blamed[0] ?? null, httpdids: blamed, redeploying: false, checks: slot.checks },
      `sandbox worker exited (${cause})${checks}; starting a replacement`,
    );
    for (const httpdid of blamed) this.#deps.crash(httpdid, `it crashed the sandbox worker (its request was running when the worker died: ${cause})`);
    this.#replace(slot);
  }

  /**
   * The worker lost control of one of `httpdid`'s isolates (it said `retire`): the server is charged
   * with the worker (crash policy included), the slot's servers are hosted on a fresh worker while
   * this one serves on, then it is drained and killed: neighbours lose no request.
   */
  retire(slot: Slot, worker: WorkerProcess, httpdid: number, message: string): void {
    if (this.#deps.closing() || worker.exited || (slot.live !== worker && slot.retiring !== worker)) return;
    const first = slot.retiring !== worker;
    slot.retiring = worker;
    if (slot.specs.has(httpdid)) this.#deps.book.restarted(httpdid);
    this.#deps.log.error(
      { worker: slot.index, pid: worker.pid, cause: message, httpdid, httpdids: [httpdid], moving: slot.specs.size },
      first
        ? `sandbox worker retired (isolated-vm lost control of an isolate: ${message}); its servers move to a fresh worker, then it is drained and stopped`
        : `sandbox worker being retired lost another isolate (${message})`,
    );
    this.#deps.crash(httpdid, `it crashed the sandbox worker (isolated-vm lost control of its isolate: ${message})`);
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
      if (this.#deps.closing()) throw new IsoError('ISO_ERR_API_WORKER_UNAVAILABLE', 'the service is stopping');
      let worker: WorkerProcess;
      try {
        worker = await this.#deps.spare.take();
      } catch (err) {
        this.#deps.log.error({ worker: slot.index, err }, 'sandbox worker failed to start; retrying');
        continue;
      }
      if (worker.exited) continue;
      this.#deps.watch(slot, worker);
      for (const spec of slot.specs.values()) {
        if (worker.exited) break;
        try {
          await hostOn(worker, spec);
          // Stopped meanwhile (undeploy reached the slot while this worker was being given it): stop it here too.
          if (!slot.specs.has(spec.httpdid)) await worker.request({ op: 'undeploy', httpdid: spec.httpdid });
        } catch (err) {
          this.#deps.log.error({ httpdid: spec.httpdid, err }, 'redeploy after worker restart failed');
        }
      }
      if (worker.exited) continue;
      if (this.#deps.closing()) throw new IsoError('ISO_ERR_API_WORKER_UNAVAILABLE', 'the service is stopping');
      const old = slot.retiring;
      if (old !== null && !old.exited) this.#drainRetired(slot, old);
      slot.retiring = null;
      this.#deps.log.info({ worker: slot.index, pid: worker.pid, servers: slot.specs.size }, 'sandbox worker replaced');
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
        this.#deps.log.warn({ worker: slot.index, pid: old.pid, err }, 'retired worker did not drain');
      }
      await old.kill();
      const last = slot.draining.get(old) ?? {};
      slot.draining.delete(old);
      for (const [id, c] of Object.entries(last)) if (slot.specs.has(Number(id))) this.#deps.book.retire(Number(id), c, 0);
    })();
  }
}
