// The tenant servers of this service: binds their addresses, deploys them to the sandbox worker, replaces a worker that dies.

import { IsoError } from '../errors.js';
import { resolveLimits, type Limits } from '../limits.js';
import { bindHandle, resolveBindAddress, type BoundHandle } from '../host/bind.js';
import type { FromWorker } from '../host/worker-protocol.js';
import { WorkerProcess } from '../host/worker-process.js';
import { checkAddress, type AddressPolicy } from './address-policy.js';
import { IdSequence } from './id-sequence.js';

/** A tenant server as the API shows it (schemas/server.json). */
export interface ServerView {
  httpdid: number;
  host: string;
  port: number;
  state: 'running';
  createdAt: string;
  limits: Limits;
  source?: string;
}

/** The body of `POST /servers` after schema validation. */
export interface CreateRequest {
  host: string;
  port: number;
  source: string;
  limits?: Partial<Limits>;
}

interface ServerRecord {
  readonly view: ServerView;
  readonly source: string;
  readonly key: string;
  readonly handle: BoundHandle;
}

/** The subset of a pino logger the manager uses. */
export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Worker restart back-off: first retry after this, doubling up to the max, ms. */
const RESTART_MIN_MS = 50;
const RESTART_MAX_MS = 5000;

/**
 * Owns every tenant server: the bound handles (held here for the server's whole life, so a port
 * stays bound while a worker is replaced), the httpdid sequence and the sandbox worker.
 */
export class ServerManager {
  readonly #ids: IdSequence;
  readonly #log: Log;
  readonly #maxSourceBytes: number;
  readonly #servers = new Map<number, ServerRecord>();
  readonly #addresses = new Set<string>();
  #policy: AddressPolicy;
  #worker: Promise<WorkerProcess>;
  #restartDelay = RESTART_MIN_MS;
  #closing = false;

  private constructor(ids: IdSequence, log: Log, policy: AddressPolicy, maxSourceBytes: number, worker: WorkerProcess) {
    this.#ids = ids;
    this.#log = log;
    this.#policy = policy;
    this.#maxSourceBytes = maxSourceBytes;
    this.#worker = Promise.resolve(this.#watch(worker));
  }

  /** Opens the data dir and starts the sandbox worker. */
  static async start(opts: { dataDir: string; log: Log; policy: AddressPolicy; maxSourceBytes: number }): Promise<ServerManager> {
    const ids = await IdSequence.open(opts.dataDir);
    const worker = await WorkerProcess.start();
    return new ServerManager(ids, opts.log, opts.policy, opts.maxSourceBytes, worker);
  }

  /** Sets the API's own address once it is bound (a port of 0 is only known then). */
  setApiAddress(address: string, port: number): void {
    this.#policy = { ...this.#policy, apiAddress: address, apiPort: port };
  }

  #watch(worker: WorkerProcess): WorkerProcess {
    worker.on('message', (msg: FromWorker) => {
      if (msg.op === 'outcome') this.#log.warn({ httpdid: msg.httpdid, outcome: msg.outcome, detail: msg.detail }, 'handler request did not end ok');
      else if (msg.op === 'catastrophic') this.#log.error({ httpdid: msg.httpdid, detail: msg.message }, 'catastrophic isolate error; the worker is being replaced');
    });
    worker.once('exit', (code: number | null, signal: string | null) => {
      if (this.#closing) return;
      this.#log.error({ pid: worker.pid, code, signal }, 'sandbox worker exited; starting a replacement');
      this.#worker = this.#restart();
      this.#worker.catch(() => undefined);
    });
    return worker;
  }

  async #restart(): Promise<WorkerProcess> {
    for (;;) {
      await new Promise((r) => setTimeout(r, this.#restartDelay));
      this.#restartDelay = Math.min(this.#restartDelay * 2, RESTART_MAX_MS);
      if (this.#closing) throw new IsoError('ISO_ERR_API_WORKER_UNAVAILABLE', 'the service is stopping');
      let worker: WorkerProcess;
      try {
        worker = await WorkerProcess.start();
      } catch (err) {
        this.#log.error({ err }, 'sandbox worker failed to start; retrying');
        continue;
      }
      for (const rec of this.#servers.values()) {
        try {
          const reply = await worker.request({ op: 'deploy', httpdid: rec.view.httpdid, port: rec.view.port, source: rec.source, limits: rec.view.limits }, rec.handle);
          if (!reply.ok) this.#log.error({ httpdid: rec.view.httpdid, code: reply.code, detail: reply.message }, 'redeploy after worker restart failed');
        } catch (err) {
          this.#log.error({ httpdid: rec.view.httpdid, err }, 'redeploy after worker restart failed');
        }
      }
      this.#log.info({ pid: worker.pid, servers: this.#servers.size }, 'sandbox worker replaced');
      // A worker that stays up a while resets the back-off.
      setTimeout(() => { if (!worker.exited) this.#restartDelay = RESTART_MIN_MS; }, 10_000).unref();
      return this.#watch(worker);
    }
  }

  /**
   * Binds, deploys and registers a new server. Resolves once it is accepting connections.
   * @throws IsoError 403 (address policy), 409 (in use), 413 (source too large), 422 (source), 503 (worker).
   */
  async create(req: CreateRequest): Promise<ServerView> {
    const sourceBytes = Buffer.byteLength(req.source, 'utf8');
    if (sourceBytes > this.#maxSourceBytes) {
      throw new IsoError('ISO_ERR_API_BODY_TOO_LARGE', `body.source is ${sourceBytes} bytes; at most ${this.#maxSourceBytes} are allowed`);
    }
    // The host is checked against the allow-list before any name is resolved.
    checkAddress(this.#policy, req.host, req.port, '');
    const { address, family } = await resolveBindAddress(req.host);
    checkAddress(this.#policy, req.host, req.port, address);
    const key = `${address}|${req.port}`;
    // Two bound-but-not-listening sockets may share a port (SO_REUSEADDR), so our own servers are checked here.
    if (this.#addresses.has(key)) throw new IsoError('ISO_ERR_API_ADDRESS_IN_USE', `${req.host} port ${req.port} is already in use by another server`);
    this.#addresses.add(key);
    try {
      const handle = bindHandle(address, family, req.port);
      try {
        const limits = resolveLimits(req.limits);
        const httpdid = await this.#ids.next();
        const worker = await this.#worker;
        const reply = await worker.request({ op: 'deploy', httpdid, port: req.port, source: req.source, limits }, handle);
        if (!reply.ok) throw new IsoError(reply.code, reply.message);
        const view: ServerView = { httpdid, host: req.host, port: req.port, state: 'running', createdAt: new Date().toISOString(), limits };
        this.#servers.set(httpdid, { view, source: req.source, key, handle });
        this.#log.info({ httpdid, host: req.host, port: req.port }, 'server deployed');
        return view;
      } catch (err) {
        handle.close();
        throw err;
      }
    } catch (err) {
      this.#addresses.delete(key);
      throw err;
    }
  }

  /** Every server, in httpdid order. */
  list(): ServerView[] {
    return [...this.#servers.values()].map((r) => r.view).sort((a, b) => a.httpdid - b.httpdid);
  }

  /** One server, with its source if asked. @throws IsoError 404. */
  get(httpdid: number, withSource: boolean): ServerView {
    const rec = this.#servers.get(httpdid);
    if (rec === undefined) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
    return withSource ? { ...rec.view, source: rec.source } : rec.view;
  }

  /** Stops a server: its listener closes, open connections are dropped, the port is released. @throws IsoError 404. */
  async remove(httpdid: number): Promise<void> {
    const rec = this.#servers.get(httpdid);
    if (rec === undefined) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
    this.#servers.delete(httpdid);
    try {
      const worker = await this.#worker;
      await worker.request({ op: 'undeploy', httpdid });
    } catch (err) {
      // A worker that is gone has closed its copy of the socket with it.
      this.#log.warn({ httpdid, err }, 'undeploy did not reach the worker');
    }
    rec.handle.close();
    this.#addresses.delete(rec.key);
    this.#log.info({ httpdid }, 'server stopped');
  }

  /** Stops every server and the worker. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const rec of this.#servers.values()) rec.handle.close();
    this.#servers.clear();
    this.#addresses.clear();
    try {
      await (await this.#worker).kill();
    } catch {
      // no worker to stop
    }
  }
}
