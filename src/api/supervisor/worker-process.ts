// The control process's side of one sandbox worker process: fork, request/reply over IPC, exit notification.

import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { IsoError } from '../../core/errors.js';
import { REPLY_TIMEOUT_MS, WORKER_SEMI_SPACE_MB } from '../../core/supervision.js';
import { type FromWorker, type Reply, type ToWorker, type WorkerOptions, type WorkerRuntime, workerArgv } from '../../host/worker/protocol.js';
import type { BoundHandle } from '../control/bind.js';

type Request = ToWorker extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

const WORKER_MAIN = new URL('../../host/worker/main.js', import.meta.url);

/**
 * glibc's malloc threshold above which an allocation gets its own mapping, returned to the system
 * when freed, bytes (its default, fixed). Left dynamic, glibc raises it to the largest block freed
 * so far: after a disposed isolate's 1 MiB ArrayBuffers, the next isolate's come from the heap and
 * stay resident once freed (200 MiB of them kept a worker at 469 MiB after the dispose, against 71
 * MiB with the threshold fixed; the 2000 allocations were faster too, 42 ms against 144 ms).
 */
const MALLOC_MMAP_THRESHOLD = '131072';

/** Events: `message` (FromWorker other than replies), `reply` (each reply, as it arrives, before its request resolves), `exit` (code, signal). */
export class WorkerProcess extends EventEmitter {
  readonly #child: ChildProcess;
  readonly #runtime: WorkerRuntime;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #nextId = 1;
  #exited = false;

  private constructor(child: ChildProcess, runtime: WorkerRuntime) {
    super();
    this.#child = child;
    this.#runtime = runtime;
    child.on('message', (msg: FromWorker) => {
      if (msg.op === 'reply') {
        this.emit('reply', msg);
        const p = this.#pending.get(msg.id);
        if (p === undefined) return;
        this.#pending.delete(msg.id);
        clearTimeout(p.timer);
        p.resolve(msg);
      } else {
        this.emit('message', msg);
      }
    });
    child.on('exit', (code, signal) => {
      this.#exited = true;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(new IsoError('ISO_ERR_API_WORKER_UNAVAILABLE', 'the sandbox worker exited while handling the request'));
      }
      this.#pending.clear();
      this.emit('exit', code, signal);
    });
  }

  /**
   * Forks a worker with a minimal environment (no secrets; glibc's mmap threshold fixed, see
   * {@link MALLOC_MMAP_THRESHOLD}) and waits for it to say it is ready.
   * isolated-vm needs `--no-node-snapshot` (its README: Node's startup snapshot and its isolates do
   * not mix); the worker runs on this process's Node (`process.execPath`, fork's default).
   * `options` travel on its command line.
   */
  static start(options: WorkerOptions): Promise<WorkerProcess> {
    const child = fork(WORKER_MAIN, workerArgv(options), {
      // The worker's own heap only: its main thread's scavenges stay short (src/host/worker/young-generation.ts).
      execArgv: ['--no-node-snapshot', `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', NODE_ENV: process.env['NODE_ENV'] ?? 'production', MALLOC_MMAP_THRESHOLD_: MALLOC_MMAP_THRESHOLD },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`sandbox worker exited during start-up (code ${String(code)})`));
      child.once('exit', onExit);
      child.once('message', (msg: FromWorker) => {
        child.off('exit', onExit);
        if (msg.op === 'ready') resolve(new WorkerProcess(child, msg.runtime));
        else reject(new Error('sandbox worker spoke before it was ready'));
      });
    });
  }

  /** The worker's process id. */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** The Node.js and V8 versions the worker reported at start-up. */
  get runtime(): WorkerRuntime {
    return this.#runtime;
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** Sends a request (and optionally a listening handle) and waits for its reply. */
  request(req: Request, handle?: BoundHandle, timeoutMs: number = REPLY_TIMEOUT_MS): Promise<Reply> {
    if (this.#exited) return Promise.reject(new IsoError('ISO_ERR_API_WORKER_UNAVAILABLE', 'the sandbox worker is not running'));
    const id = this.#nextId++;
    const msg = { ...req, id } as ToWorker;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new IsoError('ISO_ERR_API_WORKER_UNAVAILABLE', 'the sandbox worker did not answer in time'));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      // The handle type is internal to Node (a libuv TCP wrap); child_process sends it as 'net.Native'.
      this.#child.send(msg, handle as Parameters<ChildProcess['send']>[1], {}, (err) => {
        if (err === null || err === undefined) return;
        this.#pending.delete(id);
        clearTimeout(timer);
        reject(new IsoError('ISO_ERR_API_WORKER_UNAVAILABLE', `could not reach the sandbox worker: ${err.message}`));
      });
    });
  }

  /** Kills the worker (SIGKILL) and resolves once it has exited. */
  kill(): Promise<void> {
    if (this.#exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.#child.once('exit', () => resolve());
      this.#child.kill('SIGKILL');
    });
  }
}
