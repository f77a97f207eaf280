// The tenant servers of this service: binds their addresses, places their replicas on sandbox workers, quarantines servers that crash workers.

import { IsoError } from '../errors.js';
import { resolveLimits, type Limits } from '../limits.js';
import { OUTCOMES } from '../outcome.js';
import { bindHandle, resolveBindAddress, type BoundHandle } from '../host/bind.js';
import { checkAddress, type AddressPolicy } from './address-policy.js';
import { IdSequence } from './id-sequence.js';
import { WorkerPool, type Log, type OutcomeCounts } from './worker-pool.js';

/** A tenant server as the API shows it (schemas/server.json). */
export interface ServerView {
  httpdid: number;
  host: string;
  port: number;
  state: 'running' | 'failed';
  reason?: string;
  createdAt: string;
  limits: Limits;
  replicas: number;
  quarantined: boolean;
  stats: { requests: number; outcomes: OutcomeCounts };
  source?: string;
}

/** The body of `POST /servers` after schema validation. */
export interface CreateRequest {
  host: string;
  port: number;
  source: string;
  replicas?: number;
  limits?: Partial<Limits>;
}

interface ServerRecord {
  readonly httpdid: number;
  readonly host: string;
  readonly port: number;
  readonly createdAt: string;
  readonly limits: Limits;
  readonly replicas: number;
  readonly source: string;
  readonly key: string;
  readonly handle: BoundHandle;
  slots: number[];
  state: 'running' | 'failed';
  reason?: string;
  quarantined: boolean;
  /** When its handler crashed a worker, ms since the epoch (the last few). */
  crashes: number[];
}

/** One console line of a handler, as `GET /servers/:httpdid/logs` shows it. */
export interface ConsoleLine {
  /** ISO 8601 time the line reached the control process. */
  time: string;
  level: string;
  message: string;
}

/** Receives a server's console lines as they arrive ({@link ServerManager.followConsole}). */
export interface ConsoleFollower {
  /** A new console line. Called synchronously as lines arrive: must not block. */
  line(line: ConsoleLine): void;
  /** The server was deleted (or the service is stopping): no more lines will come. */
  end(): void;
}

/** Console lines kept per server (a ring buffer: the oldest go first). */
export const CONSOLE_LINES_KEPT = 1000;


/** Crashes of its worker within this window that send a server to quarantine (or, in quarantine, to failed). */
const CRASH_LIMIT = 3;
const CRASH_WINDOW_MS = 60_000;

/**
 * Owns every tenant server: the bound handles (held here for the server's whole life, so a port
 * stays bound while a worker is replaced), the httpdid sequence and the worker pool.
 */
export class ServerManager {
  readonly #ids: IdSequence;
  readonly #log: Log;
  readonly #pool: WorkerPool;
  readonly #maxSourceBytes: number;
  readonly #servers = new Map<number, ServerRecord>();
  readonly #addresses = new Set<string>();
  /** The last console lines of each server's handler, from the moment its httpdid is allocated (module-level output included). */
  readonly #console = new Map<number, ConsoleLine[]>();
  /** Followers of each server's console (`GET /servers/:httpdid/logs?follow=1`). */
  readonly #followers = new Map<number, Set<ConsoleFollower>>();
  #policy: AddressPolicy;

  private constructor(ids: IdSequence, log: Log, policy: AddressPolicy, maxSourceBytes: number, pool: WorkerPool) {
    this.#ids = ids;
    this.#log = log;
    this.#policy = policy;
    this.#maxSourceBytes = maxSourceBytes;
    this.#pool = pool;
    pool.on('crash', (httpdid: number, reason: string) => void this.#onCrash(httpdid, reason));
    pool.on('console', (httpdid: number, time: number, lines: ReadonlyArray<readonly [string, string]>) => {
      const kept = this.#console.get(httpdid);
      if (kept === undefined) return;
      const iso = new Date(time).toISOString();
      for (const [level, message] of lines) kept.push({ time: iso, level, message });
      if (kept.length > CONSOLE_LINES_KEPT) kept.splice(0, kept.length - CONSOLE_LINES_KEPT);
      const followers = this.#followers.get(httpdid);
      if (followers !== undefined) {
        for (const f of followers) for (const [level, message] of lines) f.line({ time: iso, level, message });
      }
    });
  }

  /** Opens the data dir and starts the worker pool. */
  static async start(opts: { dataDir: string; log: Log; policy: AddressPolicy; maxSourceBytes: number; workers: number }): Promise<ServerManager> {
    const ids = await IdSequence.open(opts.dataDir);
    const pool = await WorkerPool.start(opts.workers, opts.log);
    return new ServerManager(ids, opts.log, opts.policy, opts.maxSourceBytes, pool);
  }

  /** Sets the API's own address once it is bound (a port of 0 is only known then). */
  setApiAddress(address: string, port: number): void {
    this.#policy = { ...this.#policy, apiAddress: address, apiPort: port };
  }

  /** Process ids of the sandbox workers, by slot. */
  workerPids(): Promise<number[]> {
    return this.#pool.pids();
  }

  /**
   * Binds, deploys and registers a new server. Resolves once every replica accepts connections.
   * @throws IsoError 400 (replicas), 403 (address policy), 409 (in use), 413 (source too large), 422 (source), 503 (worker).
   */
  async create(req: CreateRequest): Promise<ServerView> {
    const sourceBytes = Buffer.byteLength(req.source, 'utf8');
    if (sourceBytes > this.#maxSourceBytes) {
      throw new IsoError('ISO_ERR_API_BODY_TOO_LARGE', `body.source is ${sourceBytes} bytes; at most ${this.#maxSourceBytes} are allowed`);
    }
    const replicas = req.replicas ?? 1;
    const slots = this.#pool.place(replicas);
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
      const limits = resolveLimits(req.limits);
      const deployed: number[] = [];
      let httpdid = 0;
      try {
        httpdid = await this.#ids.next();
        this.#console.set(httpdid, []);
        const spec = { httpdid, port: req.port, source: req.source, limits, handle };
        // The first replica compiles the source (a 422 stops here); the others follow together.
        const [first, ...rest] = slots;
        if (first !== undefined) {
          await this.#pool.deploy(first, spec);
          deployed.push(first);
        }
        await Promise.all(rest.map(async (slot) => {
          await this.#pool.deploy(slot, spec);
          deployed.push(slot);
        }));
      } catch (err) {
        await Promise.all(deployed.map((slot) => this.#pool.undeploy(slot, httpdid)));
        this.#console.delete(httpdid);
        handle.close();
        throw err;
      }
      const rec: ServerRecord = {
        httpdid, host: req.host, port: req.port, createdAt: new Date().toISOString(), limits, replicas, source: req.source,
        key, handle, slots: deployed, state: 'running', quarantined: false, crashes: [],
      };
      this.#servers.set(httpdid, rec);
      this.#log.info({ httpdid, host: req.host, port: req.port, workers: deployed }, 'server deployed');
      return this.#view(rec, false);
    } catch (err) {
      this.#addresses.delete(key);
      throw err;
    }
  }

  #view(rec: ServerRecord, withSource: boolean): ServerView {
    const outcomes = this.#pool.counts(rec.httpdid);
    const view: ServerView = {
      httpdid: rec.httpdid, host: rec.host, port: rec.port, state: rec.state, createdAt: rec.createdAt, limits: rec.limits,
      replicas: rec.replicas, quarantined: rec.quarantined,
      stats: { requests: OUTCOMES.reduce((n, o) => n + outcomes[o], 0), outcomes },
    };
    if (rec.reason !== undefined) view.reason = rec.reason;
    if (withSource) view.source = rec.source;
    return view;
  }

  /** Every server, in httpdid order. */
  list(): ServerView[] {
    return [...this.#servers.values()].sort((a, b) => a.httpdid - b.httpdid).map((r) => this.#view(r, false));
  }

  /** One server, with its source if asked. @throws IsoError 404. */
  get(httpdid: number, withSource: boolean): ServerView {
    return this.#view(this.#record(httpdid), withSource);
  }

  #record(httpdid: number): ServerRecord {
    const rec = this.#servers.get(httpdid);
    if (rec === undefined) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
    return rec;
  }

  /** The last console lines of a server's handler, oldest first. @throws IsoError 404. */
  consoleLines(httpdid: number): ConsoleLine[] {
    this.#record(httpdid);
    return [...(this.#console.get(httpdid) ?? [])];
  }

  /**
   * Calls `follower` with every console line of a server from now on, until the server is
   * deleted (then `end()`) or the returned function is called. Take {@link consoleLines} in the
   * same tick to get the lines before. @throws IsoError 404.
   */
  followConsole(httpdid: number, follower: ConsoleFollower): () => void {
    this.#record(httpdid);
    let set = this.#followers.get(httpdid);
    if (set === undefined) this.#followers.set(httpdid, set = new Set());
    set.add(follower);
    return () => {
      set.delete(follower);
      if (set.size === 0 && this.#followers.get(httpdid) === set) this.#followers.delete(httpdid);
    };
  }

  /** Ends and forgets the console followers of one server, or of every server. */
  #endFollowers(httpdid?: number): void {
    const ids = httpdid === undefined ? [...this.#followers.keys()] : [httpdid];
    for (const id of ids) {
      const set = this.#followers.get(id);
      this.#followers.delete(id);
      for (const f of set ?? []) f.end();
    }
  }

  /** Stops a server: its listeners close, open connections are dropped, the port is released. @throws IsoError 404. */
  async remove(httpdid: number): Promise<void> {
    const rec = this.#record(httpdid);
    this.#servers.delete(httpdid);
    this.#console.delete(httpdid);
    this.#endFollowers(httpdid);
    await Promise.all(rec.slots.map((slot) => this.#pool.undeploy(slot, httpdid)));
    if (rec.state === 'running') rec.handle.close();
    this.#addresses.delete(rec.key);
    this.#log.info({ httpdid }, 'server stopped');
  }

  /** A server's handler crashed its worker: count it; at the limit, quarantine it, or fail it if already quarantined. */
  async #onCrash(httpdid: number, reason: string): Promise<void> {
    const rec = this.#servers.get(httpdid);
    if (rec === undefined || rec.state !== 'running') return;
    const now = Date.now();
    rec.crashes = [...rec.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    if (rec.crashes.length < CRASH_LIMIT) return;
    rec.crashes = [];
    const old = rec.slots;
    if (!rec.quarantined) {
      try {
        const slot = await this.#pool.quarantine(httpdid);
        rec.slots = [slot];
        rec.quarantined = true;
        this.#log.error({ httpdid, worker: slot }, `server quarantined on a worker of its own: ${reason} ${CRASH_LIMIT} times within ${CRASH_WINDOW_MS / 1000} s`);
        await Promise.all(old.map((s) => this.#pool.undeploy(s, httpdid)));
        await this.#pool.deploy(slot, { httpdid, port: rec.port, source: rec.source, limits: rec.limits, handle: rec.handle });
        return;
      } catch (err) {
        this.#log.error({ httpdid, err }, 'quarantine failed');
      }
    }
    rec.state = 'failed';
    rec.reason = `${reason} ${CRASH_LIMIT} times within ${CRASH_WINDOW_MS / 1000} s${rec.quarantined ? ', also on a worker of its own' : ''}`;
    rec.slots = [];
    await Promise.all(old.map((s) => this.#pool.undeploy(s, httpdid)));
    // Not serving: release the port so clients are refused rather than left waiting in the backlog.
    rec.handle.close();
    this.#log.error({ httpdid, reason: rec.reason }, 'server failed');
  }

  /** Stops every server and the workers. */
  async close(): Promise<void> {
    this.#endFollowers();
    for (const rec of this.#servers.values()) if (rec.state === 'running') rec.handle.close();
    this.#servers.clear();
    this.#addresses.clear();
    await this.#pool.close();
  }
}
