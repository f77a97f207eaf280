// The heartbeat: every worker of the pool is pinged on a fixed period, its answer carries its counters, and one that misses the deadline is killed (its slot then replaces it).

import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS } from '../../core/supervision.js';
import type { Log } from './log.js';
import type { Slot } from './slot.js';

/** Pings the pool's workers every {@link HEARTBEAT_INTERVAL_MS}; a worker that does not answer within {@link HEARTBEAT_TIMEOUT_MS} is killed. */
export class Heartbeat {
  readonly #timer: NodeJS.Timeout;

  /**
   * @param slots the slots to ping, read on every beat (quarantine slots join as they are added)
   * @param log where a missed heartbeat is logged
   * @param closing whether the pool is stopping (a worker going away then is not a miss)
   */
  constructor(slots: () => Iterable<Slot>, log: Log, closing: () => boolean) {
    this.#timer = setInterval(() => {
      for (const slot of slots()) beat(slot, log, closing);
    }, HEARTBEAT_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Stops pinging. */
  stop(): void {
    clearInterval(this.#timer);
  }
}

/** One ping of a slot's worker: keeps the counters it answers with, or kills it if it does not answer in time. */
function beat(slot: Slot, log: Log, closing: () => boolean): void {
  void slot.worker.then(
    async (worker) => {
      if (worker.exited) return;
      try {
        const reply = await worker.request({ op: 'ping' }, undefined, HEARTBEAT_TIMEOUT_MS);
        if (reply.ok && reply.stats !== undefined) slot.lastStats = { ...reply.stats };
      } catch {
        if (worker.exited || closing()) return;
        log.error({ worker: slot.index, pid: worker.pid }, `sandbox worker missed its heartbeat (${HEARTBEAT_TIMEOUT_MS} ms); killing it`);
        await worker.kill();
      }
    },
    () => undefined,
  );
}
