// The heartbeat: every worker of the pool is pinged on a fixed period, its answer carries its counters and the servers running, and one that answers nothing for too long is killed (its slot then replaces it).

import { HEARTBEAT_DEAD_MS, HEARTBEAT_INTERVAL_MS } from '../../core/supervision.js';
import type { Log } from './log.js';
import type { Slot } from './slot.js';
import type { WorkerProcess } from './worker-process.js';

/** What the heartbeat knows of one worker. */
interface Beat {
  /** Whether a ping is waiting for its answer (one at a time). */
  outstanding: boolean;
  /** Time since its last answer that counts against it, ms (the control process's own timer lag discounted). */
  silentMs: number;
}

/**
 * Pings the pool's workers every {@link HEARTBEAT_INTERVAL_MS}; a worker that answers no ping for
 * {@link HEARTBEAT_DEAD_MS} of the control process's own running time is killed. Each tick counts at
 * most one interval of silence, so a control process whose timer fires late (a loaded machine) does
 * not charge its lateness to the workers.
 */
export class Heartbeat {
  readonly #timer: NodeJS.Timeout;
  readonly #beats = new WeakMap<WorkerProcess, Beat>();
  #lastTick = performance.now();

  /**
   * @param slots the slots to ping, read on every beat (quarantine slots join as they are added)
   * @param log where a missed heartbeat is logged
   * @param closing whether the pool is stopping (a worker going away then is not a miss)
   */
  constructor(slots: () => Iterable<Slot>, log: Log, closing: () => boolean) {
    this.#timer = setInterval(() => {
      const now = performance.now();
      const counted = Math.min(now - this.#lastTick, HEARTBEAT_INTERVAL_MS);
      this.#lastTick = now;
      for (const slot of slots()) this.#beat(slot, counted, log, closing);
    }, HEARTBEAT_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Stops pinging. */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** One tick for a slot's live worker: ping it (unless a ping is still out), keep what it answers, kill it after too long a silence. */
  #beat(slot: Slot, counted: number, log: Log, closing: () => boolean): void {
    const worker = slot.live;
    if (worker === null || worker.exited || closing()) return;
    let beat = this.#beats.get(worker);
    if (beat === undefined) {
      beat = { outstanding: false, silentMs: 0 };
      this.#beats.set(worker, beat);
    } else beat.silentMs += counted;
    if (beat.silentMs >= HEARTBEAT_DEAD_MS) {
      if (slot.killedFor !== null) return;
      slot.killedFor = 'missed heartbeat';
      log.error({ worker: slot.index, pid: worker.pid, silentMs: Math.round(beat.silentMs) }, `sandbox worker answered no heartbeat for ${HEARTBEAT_DEAD_MS} ms; killing it`);
      void worker.kill();
      return;
    }
    if (beat.outstanding) return;
    beat.outstanding = true;
    const b = beat;
    // The answer may come late: any answer shows the worker's event loop runs. The reply timer only cleans up.
    worker.request({ op: 'ping' }, undefined, HEARTBEAT_DEAD_MS * 4).then(
      (reply) => {
        b.outstanding = false;
        b.silentMs = 0;
        // A worker retired meanwhile (its replacement now live) keeps its last counters apart.
        if (!reply.ok || worker.exited || slot.live !== worker) return;
        // (`running` is taken by the pool as the answer arrives, in order with the worker's `running` messages.)
        if (reply.stats !== undefined) {
          slot.lastStats = { ...reply.stats };
          slot.statsAt = performance.now();
        }
      },
      () => {
        b.outstanding = false;
      },
    );
  }
}
