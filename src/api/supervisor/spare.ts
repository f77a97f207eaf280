// The spare: one started, idle worker process kept ready so that a dead worker is replaced without waiting for a process to boot.

import type { WorkerOptions } from '../../host/worker/protocol.js';
import type { Log } from './log.js';
import { WorkerProcess } from './worker-process.js';

/** After a spare failed to start, how long before the next attempt, ms (a take meanwhile starts a worker of its own). */
const SPARE_RETRY_MS = 1000;

/** Keeps one spare worker started in the background; taking it starts the next. */
export class Spare {
  readonly #log: Log;
  readonly #options: WorkerOptions;
  #spare: Promise<WorkerProcess> | null = null;
  #closed = false;
  /** For each ready spare: stops watching its exit (once taken, the pool watches it). */
  readonly #taken = new WeakMap<WorkerProcess, () => void>();

  /** @param options what every worker is forked with */
  constructor(log: Log, options: WorkerOptions) {
    this.#log = log;
    this.#options = options;
  }

  /** Starts a new spare in the background (after one was taken, or at start). */
  refill(): void {
    if (this.#closed) return;
    const spare = WorkerProcess.start(this.#options);
    spare.then(
      (w) => {
        // Until it is taken, its exit is the spare's to log and make up for.
        const onExit = (code: number | null, signal: string | null): void => {
          if (this.#spare !== spare || this.#closed) return;
          this.#spare = null;
          const cause = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
          this.#log.error({ pid: w.pid, code, signal, cause }, `spare sandbox worker exited (${cause}); starting another`);
          this.refill();
        };
        w.once('exit', onExit);
        this.#taken.set(w, () => w.off('exit', onExit));
      },
      (err: unknown) => {
        if (this.#spare !== spare || this.#closed) return;
        this.#spare = null;
        this.#log.error({ err }, `spare sandbox worker failed to start; starting another in ${SPARE_RETRY_MS} ms`);
        setTimeout(() => {
          if (this.#spare === null) this.refill();
        }, SPARE_RETRY_MS).unref();
      },
    );
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
        this.#taken.get(w)?.();
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
