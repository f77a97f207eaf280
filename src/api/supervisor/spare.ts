// The spare: one started, idle worker process kept ready so that a dead worker is replaced without waiting for a process to boot.

import type { WorkerOptions } from '../../host/worker/protocol.js';
import type { Log } from './log.js';
import { WorkerProcess } from './worker-process.js';

/** Keeps one spare worker started in the background; taking it starts the next. */
export class Spare {
  readonly #log: Log;
  readonly #options: WorkerOptions;
  #spare: Promise<WorkerProcess> | null = null;
  #closed = false;

  /** @param options what every worker is forked with */
  constructor(log: Log, options: WorkerOptions) {
    this.#log = log;
    this.#options = options;
  }

  /** Starts a new spare in the background (after one was taken, or at start). */
  refill(): void {
    if (this.#closed) return;
    const spare = WorkerProcess.start(this.#options);
    spare.catch((err: unknown) => {
      this.#log.error({ err }, 'spare sandbox worker failed to start');
      if (this.#spare === spare) this.#spare = null;
    });
    this.#spare = spare;
  }

  /** A ready worker: the spare if there is a live one (then a new spare is started), else a new process. */
  async take(): Promise<WorkerProcess> {
    const spare = this.#spare;
    this.#spare = null;
    this.refill();
    if (spare !== null) {
      try {
        const w = await spare;
        if (!w.exited) return w;
      } catch {
        // fall through to a fresh start
      }
    }
    return WorkerProcess.start(this.#options);
  }

  /** Starts no more spares and kills the one there is. */
  async close(): Promise<void> {
    this.#closed = true;
    const spare = this.#spare;
    this.#spare = null;
    await spare?.then(
      (w) => w.kill(),
      () => undefined,
    );
  }
}
