// The tenant servers of this service: binds their addresses, places their replicas on sandbox workers, quarantines servers that crash workers, keeps the registry in step.

import { IsoError } from '../../core/errors.js';
import { quantile, totalCount } from '../../core/histogram.js';
import { resolveLimits, type Limits } from '../../core/limits.js';
import { OUTCOMES } from '../../core/outcome.js';
import { CRASH_LIMIT, CRASH_WINDOW_MS, RESTORE_RETRY_INTERVAL_MS, RESTORE_RETRY_MS } from '../../core/supervision.js';
import type { WorkerInfo } from '../../host/worker/protocol.js';
import type { Caller } from './caller.js';
import type { Registry, ServerRow } from '../registry/registry.js';
import { WorkerPool, type Log, type OutcomeCounts, type ServerStats } from '../supervisor/worker-pool.js';
import { checkAddress, type AddressPolicy } from './address-policy.js';
import { bindHandle, resolveBindAddress, type BoundHandle } from './bind.js';
import { ConsoleLog, type ConsoleFollower, type ConsoleLine } from './console-log.js';
import { checkQuota, effectiveQuotas, type Quotas } from './quotas.js';

/** `stats` of a server view (schemas/server.json). */
export interface StatsView {
  requests: number;
  outcomes: OutcomeCounts;
  /** p50 and p99 from the head received to the response written, ms; null before the first request. */
  latencyMs: { p50: number | null; p99: number | null };
  bytesIn: number;
  bytesOut: number;
  heapUsedBytes: number;
  workerRestarts: number;
}

/** A tenant server as the API shows it (schemas/server.json). */
export interface ServerView {
  httpdid: number;
  tenant: string;
  host: string;
  port: number;
  state: 'running' | 'failed';
  reason?: string;
  createdAt: string;
  updatedAt: string;
  limits: Limits;
  replicas: number;
  quarantined: boolean;
  /** 1 at creation, +1 per successful `PUT`. */
  version: number;
  stats: StatsView;
  source?: string;
}

/** The body of `PUT /servers/:httpdid` after schema validation (schemas/update-server.json). */
export interface UpdateRequest {
  source?: string;
  /** Merged into the server's current limits. */
  limits?: Partial<Limits>;
}

/** A server's raw counters with its httpdid and state, for `GET /metrics`. */
export interface ServerMetrics {
  readonly httpdid: number;
  readonly tenant: string;
  readonly state: 'running' | 'failed';
  readonly stats: ServerStats;
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
  readonly tenant: string;
  readonly host: string;
  readonly port: number;
  readonly createdAt: string;
  updatedAt: string;
  limits: Limits;
  readonly replicas: number;
  source: string;
  version: number;
  /** The last update of this server (updates of one server run one after the other). */
  updating: Promise<unknown>;
  /** Updates queued or running. */
  updatesPending: number;
  readonly key: string;
  /** The bound socket; null for a server that failed at restore (never bound). */
  readonly handle: BoundHandle | null;
  slots: number[];
  state: 'running' | 'failed';
  reason?: string;
  quarantined: boolean;
  /** When its handler crashed a worker, ms since the epoch (the last few). */
  crashes: number[];
}

export { CONSOLE_LINES_KEPT, type ConsoleFollower, type ConsoleLine } from './console-log.js';

/** A bound, deployed address. */
interface Placement {
  readonly key: string;
  readonly handle: BoundHandle;
  slots: number[];
}

/** Options of {@link ServerManager.start}. */
export interface ManagerOptions {
  /** The open registry (the manager neither opens nor closes it). */
  readonly registry: Registry;
  readonly log: Log;
  readonly policy: AddressPolicy;
  /** The API-wide source limit, bytes: over it is 413 (the tenant quota, 403, is checked after). */
  readonly maxSourceBytes: number;
  /** Quotas of a tenant without overrides. */
  readonly quotas: Quotas;
  readonly workers: number;
}

/**
 * Owns every tenant server: the bound handles (held here for the server's whole life, so a port
 * stays bound while a worker is replaced) and the worker pool, and writes every change to the
 * registry (committed before the method resolves). Each method acts for one tenant ({@link Caller})
 * and sees only that tenant's servers: another tenant's httpdid is 404 like a missing one.
 */
export class ServerManager {
  readonly #registry: Registry;
  readonly #log: Log;
  readonly #pool: WorkerPool;
  readonly #maxSourceBytes: number;
  readonly #quotas: Quotas;
  readonly #servers = new Map<number, ServerRecord>();
  /** Creations in progress, counted against their tenant's quotas until they finish. */
  readonly #pending = new Map<string, { servers: number; memoryMb: number }>();
  readonly #addresses = new Set<string>();
  /** The last console lines of each server's handler, and their followers. */
  readonly #console = new ConsoleLog();
  #policy: AddressPolicy;

  private constructor(opts: ManagerOptions, pool: WorkerPool) {
    this.#registry = opts.registry;
    this.#log = opts.log;
    this.#policy = opts.policy;
    this.#maxSourceBytes = opts.maxSourceBytes;
    this.#quotas = opts.quotas;
    this.#pool = pool;
    pool.on('crash', (httpdid: number, reason: string) => void this.#onCrash(httpdid, reason));
    pool.on('console', (httpdid: number, time: number, lines: ReadonlyArray<readonly [string, string]>) => this.#console.add(httpdid, time, lines));
  }

  /**
   * Starts the worker pool and restores every stored server: each `running` one is bound and
   * deployed again before this resolves; one that cannot be is stored and shown as `failed` with
   * the reason. Stored `failed` servers are shown as they are.
   */
  static async start(opts: ManagerOptions): Promise<ServerManager> {
    const pool = await WorkerPool.start(opts.workers, opts.log);
    const manager = new ServerManager(opts, pool);
    for (const row of opts.registry.servers()) await manager.#restore(row);
    return manager;
  }

  /**
   * Binds and deploys a stored server. The previous instance's workers may still hold the socket for
   * a moment after it was killed (they exit when the control process is gone), so an address in
   * use is retried for up to {@link RESTORE_RETRY_MS}.
   */
  async #restoreBinding(row: ServerRow): Promise<Placement> {
    const deadline = Date.now() + RESTORE_RETRY_MS;
    for (;;) {
      try {
        return await this.#bindAndDeploy(row.httpdid, row.host, row.port, row.source, row.limits, row.replicas);
      } catch (err) {
        if (!(err instanceof IsoError && err.code === 'ISO_ERR_API_ADDRESS_IN_USE') || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, RESTORE_RETRY_INTERVAL_MS));
      }
    }
  }

  async #restore(row: ServerRow): Promise<void> {
    this.#console.open(row.httpdid);
    const base = {
      httpdid: row.httpdid,
      tenant: row.tenant,
      host: row.host,
      port: row.port,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      version: row.version,
      limits: row.limits,
      replicas: row.replicas,
      source: row.source,
      quarantined: false,
      crashes: [],
      updating: Promise.resolve(),
      updatesPending: 0,
    };
    let reason = row.reason ?? 'failed before the restart';
    if (row.state === 'running') {
      try {
        const placed = await this.#restoreBinding(row);
        this.#servers.set(row.httpdid, { ...base, ...placed, state: 'running' });
        this.#log.info({ httpdid: row.httpdid, host: row.host, port: row.port, workers: placed.slots }, 'server restored');
        return;
      } catch (err) {
        reason = `could not be restored at start-up: ${(err as Error).message}`;
        this.#registry.setServerState(row.httpdid, 'failed', reason);
        this.#log.error({ httpdid: row.httpdid, reason }, 'server failed');
      }
    }
    this.#servers.set(row.httpdid, { ...base, key: '', handle: null, slots: [], state: 'failed', reason });
  }

  /** Sets the API's own address once it is bound (a port of 0 is only known then). */
  setApiAddress(address: string, port: number): void {
    this.#policy = { ...this.#policy, apiAddress: address, apiPort: port };
  }

  /** Number of servers (all tenants, running or failed). */
  get count(): number {
    return this.#servers.size;
  }

  /** Process ids of the sandbox workers, by slot. */
  workerPids(): Promise<number[]> {
    return this.#pool.pids();
  }

  /**
   * Checks the tenant's quotas, binds, deploys and stores a new server of `caller`. Resolves once
   * every replica accepts connections and the row is committed.
   * @throws IsoError 400 (replicas), 403 (address policy, quota), 409 (in use), 413 (source too large), 422 (source), 503 (worker).
   */
  async create(caller: Caller, req: CreateRequest): Promise<ServerView> {
    const sourceBytes = this.#sourceBytes(req.source);
    const replicas = req.replicas ?? 1;
    const limits = resolveLimits(req.limits);
    const memoryMb = limits.memoryMb * replicas;
    checkQuota(caller.name, effectiveQuotas(this.#quotas, caller.overrides), this.#usage(caller.name), { servers: 1, sourceBytes, memoryMb });
    const pending = this.#pending.get(caller.name) ?? { servers: 0, memoryMb: 0 };
    this.#pending.set(caller.name, { servers: pending.servers + 1, memoryMb: pending.memoryMb + memoryMb });
    try {
      const httpdid = this.#registry.nextHttpdid();
      this.#console.open(httpdid);
      let placed: Placement;
      try {
        placed = await this.#bindAndDeploy(httpdid, req.host, req.port, req.source, limits, replicas);
      } catch (err) {
        this.#console.close(httpdid);
        throw err;
      }
      const now = new Date().toISOString();
      const rec: ServerRecord = {
        httpdid,
        tenant: caller.name,
        host: req.host,
        port: req.port,
        createdAt: now,
        updatedAt: now,
        version: 1,
        limits,
        replicas,
        source: req.source,
        ...placed,
        state: 'running',
        quarantined: false,
        crashes: [],
        updating: Promise.resolve(),
        updatesPending: 0,
      };
      try {
        // Committed before the 201: a server is acknowledged only once it is durable.
        const stored = this.#registry.insertServer({ httpdid, tenant: caller.name, host: req.host, port: req.port, source: req.source, limits, replicas, state: 'running', createdAt: now });
        if (!stored) throw new IsoError('ISO_ERR_API_UNAUTHORIZED', `tenant ${JSON.stringify(caller.name)} was removed (or tokens were turned on) during the request`);
      } catch (err) {
        await this.#stop(rec);
        this.#console.close(httpdid);
        throw err;
      }
      this.#servers.set(httpdid, rec);
      this.#log.info({ httpdid, tenant: caller.name, host: req.host, port: req.port, workers: placed.slots }, 'server deployed');
      return this.#view(rec, false);
    } finally {
      const p = this.#pending.get(caller.name);
      if (p !== undefined) {
        if (p.servers <= 1) this.#pending.delete(caller.name);
        else this.#pending.set(caller.name, { servers: p.servers - 1, memoryMb: p.memoryMb - memoryMb });
      }
    }
  }

  /** A source's size in UTF-8 bytes. @throws IsoError 413 over the API-wide source limit (the tenant quota is checked after). */
  #sourceBytes(source: string): number {
    const bytes = Buffer.byteLength(source, 'utf8');
    if (bytes > this.#maxSourceBytes) {
      throw new IsoError('ISO_ERR_API_BODY_TOO_LARGE', `body.source is ${bytes} bytes; at most ${this.#maxSourceBytes} are allowed`);
    }
    return bytes;
  }

  /** A tenant's servers and memory (`memoryMb × replicas` of its running servers), creations in progress included. */
  #usage(tenant: string): { servers: number; memoryMb: number } {
    const pending = this.#pending.get(tenant) ?? { servers: 0, memoryMb: 0 };
    let servers = pending.servers;
    let memoryMb = pending.memoryMb;
    for (const rec of this.#servers.values()) {
      if (rec.tenant !== tenant) continue;
      servers++;
      if (rec.state === 'running') memoryMb += rec.limits.memoryMb * rec.replicas;
    }
    return { servers, memoryMb };
  }

  /** Checks the address policy, binds the address and deploys `replicas` replicas. @throws IsoError (nothing is left bound). */
  async #bindAndDeploy(httpdid: number, host: string, port: number, source: string, limits: Limits, replicas: number): Promise<Placement> {
    const slots = this.#pool.place(replicas);
    // The host is checked against the allow-list before any name is resolved.
    checkAddress(this.#policy, host, port, '');
    const { address, family } = await resolveBindAddress(host);
    checkAddress(this.#policy, host, port, address);
    const key = `${address}|${port}`;
    // Two bound-but-not-listening sockets may share a port (SO_REUSEADDR), so our own servers are checked here.
    if (this.#addresses.has(key)) throw new IsoError('ISO_ERR_API_ADDRESS_IN_USE', `${host} port ${port} is already in use by another server`);
    this.#addresses.add(key);
    try {
      const handle = bindHandle(address, family, port);
      const deployed: number[] = [];
      try {
        const spec = { httpdid, port, source, limits, handle };
        // The first replica compiles the source (a 422 stops here); the others follow together.
        const [first, ...rest] = slots;
        if (first !== undefined) {
          await this.#pool.deploy(first, spec);
          deployed.push(first);
        }
        await Promise.all(
          rest.map(async (slot) => {
            await this.#pool.deploy(slot, spec);
            deployed.push(slot);
          }),
        );
      } catch (err) {
        await Promise.all(deployed.map((slot) => this.#pool.undeploy(slot, httpdid)));
        handle.close();
        throw err;
      }
      return { key, handle, slots: deployed };
    } catch (err) {
      this.#addresses.delete(key);
      throw err;
    }
  }

  /**
   * Hot redeploy: compiles the new version on every replica first (a 422 or any failure leaves the
   * old version serving, version unchanged), then switches new requests to it while in-flight ones
   * finish on the old. Connection limits apply to connections accepted after the switch.
   * The new version is committed to the registry before it serves.
   * @throws IsoError 400 (neither field), 403 (quota), 404 (also another tenant's), 409 (failed server), 413 (source too large), 422 (source), 503 (worker).
   */
  async update(caller: Caller, httpdid: number, req: UpdateRequest): Promise<ServerView> {
    const rec = this.#record(caller, httpdid);
    rec.updatesPending++;
    const run = rec.updating
      .then(() => this.#update(caller, rec, req))
      .finally(() => {
        rec.updatesPending--;
      });
    rec.updating = run.catch(() => undefined);
    return run;
  }

  async #update(caller: Caller, rec: ServerRecord, req: UpdateRequest): Promise<ServerView> {
    const { httpdid } = rec;
    if (this.#servers.get(httpdid) !== rec) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
    if (req.source === undefined && req.limits === undefined) throw new IsoError('ISO_ERR_API_BAD_REQUEST', 'body must have source or limits (or both)');
    if (rec.state !== 'running' || rec.handle === null) throw new IsoError('ISO_ERR_API_SERVER_FAILED', `server ${httpdid} has failed (${rec.reason ?? 'not serving'}); delete it and create it again`);
    const source = req.source ?? rec.source;
    const sourceBytes = this.#sourceBytes(source);
    const limits: Limits = req.limits === undefined ? rec.limits : Object.freeze({ ...rec.limits, ...req.limits });
    const usage = this.#usage(caller.name);
    checkQuota(
      caller.name,
      effectiveQuotas(this.#quotas, caller.overrides),
      { servers: usage.servers, memoryMb: usage.memoryMb - rec.limits.memoryMb * rec.replicas },
      {
        servers: 0,
        sourceBytes,
        memoryMb: limits.memoryMb * rec.replicas,
      },
    );
    const version = rec.version + 1;
    const prepared = await this.#pool.prepare(rec.slots, { httpdid, port: rec.port, source, limits, handle: rec.handle });
    try {
      // The new version is compiled on every replica but not serving yet: it is made durable first;
      // if that fails, the prepared version is dropped and the old one serves on.
      const stored = this.#registry.updateServer(httpdid, { source, limits, version });
      if (stored === undefined) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
      rec.updatedAt = stored.updatedAt;
    } catch (err) {
      await prepared.abort();
      throw err;
    }
    await prepared.commit();
    rec.source = source;
    rec.limits = limits;
    rec.version = version;
    this.#log.info({ httpdid, version }, 'server redeployed');
    return this.#view(rec, false);
  }

  /** Raw counters of every server (histogram buckets included), for `GET /metrics`. */
  metrics(): ServerMetrics[] {
    return [...this.#servers.values()].sort((a, b) => a.httpdid - b.httpdid).map((r) => ({ httpdid: r.httpdid, tenant: r.tenant, state: r.state, stats: this.#pool.stats(r.httpdid) }));
  }

  /** Pid, Node.js and V8 version of each sandbox worker up now. */
  workerRuntimes(): WorkerInfo[] {
    return this.#pool.workerRuntimes();
  }

  /** Sandbox workers up now. */
  workersUp(): number {
    return this.#pool.workersUp();
  }

  #view(rec: ServerRecord, withSource: boolean): ServerView {
    const s = this.#pool.stats(rec.httpdid);
    const view: ServerView = {
      httpdid: rec.httpdid,
      tenant: rec.tenant,
      version: rec.version,
      host: rec.host,
      port: rec.port,
      state: rec.state,
      createdAt: rec.createdAt,
      updatedAt: rec.updatedAt,
      limits: rec.limits,
      replicas: rec.replicas,
      quarantined: rec.quarantined,
      stats: {
        requests: OUTCOMES.reduce((n, o) => n + s.outcomes[o], 0),
        outcomes: s.outcomes,
        latencyMs: totalCount(s.latency) === 0 ? { p50: null, p99: null } : { p50: quantile(s.latency, 0.5), p99: quantile(s.latency, 0.99) },
        bytesIn: s.bytesIn,
        bytesOut: s.bytesOut,
        heapUsedBytes: s.heapUsed,
        workerRestarts: s.workerRestarts,
      },
    };
    if (rec.reason !== undefined) view.reason = rec.reason;
    if (withSource) view.source = rec.source;
    return view;
  }

  /** The caller's servers, in httpdid order. */
  list(caller: Caller): ServerView[] {
    return [...this.#servers.values()]
      .filter((r) => r.tenant === caller.name)
      .sort((a, b) => a.httpdid - b.httpdid)
      .map((r) => this.#view(r, false));
  }

  /** One of the caller's servers, with its source if asked. @throws IsoError 404 (also for another tenant's). */
  get(caller: Caller, httpdid: number, withSource: boolean): ServerView {
    return this.#view(this.#record(caller, httpdid), withSource);
  }

  #record(caller: Caller, httpdid: number): ServerRecord {
    const rec = this.#servers.get(httpdid);
    // Another tenant's server is answered exactly like a missing one: its existence is not revealed.
    if (rec === undefined || rec.tenant !== caller.name) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
    return rec;
  }

  /** The last console lines of one of the caller's servers, oldest first. @throws IsoError 404. */
  consoleLines(caller: Caller, httpdid: number): ConsoleLine[] {
    this.#record(caller, httpdid);
    return this.#console.lines(httpdid);
  }

  /**
   * Calls `follower` with every console line of a server from now on, until the server is
   * deleted (then `end()`) or the returned function is called. Take {@link consoleLines} in the
   * same tick to get the lines before. @throws IsoError 404.
   */
  followConsole(caller: Caller, httpdid: number, follower: ConsoleFollower): () => void {
    this.#record(caller, httpdid);
    return this.#console.follow(httpdid, follower);
  }

  /**
   * Deletes one of the caller's servers: the deletion is committed first, then its listeners
   * close, open connections are dropped and the port is released. @throws IsoError 404.
   */
  async remove(caller: Caller, httpdid: number): Promise<void> {
    const rec = this.#record(caller, httpdid);
    this.#registry.deleteServer(httpdid);
    this.#servers.delete(httpdid);
    this.#console.close(httpdid);
    // An update under way finishes (or fails) before the server is taken down.
    await rec.updating;
    await this.#stop(rec);
    this.#pool.forget(httpdid);
    this.#log.info({ httpdid }, 'server stopped');
  }

  async #stop(rec: ServerRecord): Promise<void> {
    const slots = rec.slots;
    rec.slots = [];
    await Promise.all(slots.map((slot) => this.#pool.undeploy(slot, rec.httpdid)));
    if (rec.state === 'running') rec.handle?.close();
    if (rec.key !== '') this.#addresses.delete(rec.key);
  }

  /** A server's handler crashed its worker: count it; at the limit, quarantine it, or fail it if already quarantined. */
  async #onCrash(httpdid: number, reason: string): Promise<void> {
    const rec = this.#servers.get(httpdid);
    if (rec === undefined || rec.state !== 'running') return;
    const now = Date.now();
    rec.crashes = [...rec.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    if (rec.crashes.length < CRASH_LIMIT) return;
    rec.crashes = [];
    if (rec.updatesPending > 0) {
      // A redeploy under way finishes first, so that the server moves with its current version.
      // (Only then: waiting even a tick would let the worker restart take the warm spare first.)
      await rec.updating;
      if (this.#servers.get(httpdid) !== rec || rec.state !== 'running') return;
    }
    const old = rec.slots;
    if (!rec.quarantined) {
      try {
        const slot = await this.#pool.quarantine(httpdid);
        rec.slots = [slot];
        rec.quarantined = true;
        this.#log.error({ httpdid, worker: slot }, `server quarantined on a worker of its own: ${reason} ${CRASH_LIMIT} times within ${CRASH_WINDOW_MS / 1000} s`);
        await Promise.all(old.map((s) => this.#pool.undeploy(s, httpdid)));
        if (rec.handle === null) throw new Error('the server has no bound socket');
        await this.#pool.deploy(slot, { httpdid, port: rec.port, source: rec.source, limits: rec.limits, handle: rec.handle });
        return;
      } catch (err) {
        this.#log.error({ httpdid, err }, 'quarantine failed');
      }
    }
    rec.state = 'failed';
    rec.reason = `${reason} ${CRASH_LIMIT} times within ${CRASH_WINDOW_MS / 1000} s${rec.quarantined ? ', also on a worker of its own' : ''}`;
    rec.slots = [];
    this.#registry.setServerState(httpdid, 'failed', rec.reason);
    await Promise.all(old.map((s) => this.#pool.undeploy(s, httpdid)));
    // Not serving: release the port so clients are refused rather than left waiting in the backlog.
    rec.handle?.close();
    this.#log.error({ httpdid, reason: rec.reason }, 'server failed');
  }

  /**
   * Graceful stop, part one: no server accepts new connections any more (the control process's
   * sockets close, each worker closes its listeners), and requests in flight finish, for at most
   * `timeoutMs`. The registry is untouched: the servers are restored at the next start.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.#closeHandles();
    await this.#pool.drain(timeoutMs);
  }

  #handlesClosed = false;

  #closeHandles(): void {
    if (this.#handlesClosed) return;
    this.#handlesClosed = true;
    for (const rec of this.#servers.values()) if (rec.state === 'running') rec.handle?.close();
  }

  /** Stops every server and the workers (the registry keeps them: they are restored at the next start). */
  async close(): Promise<void> {
    this.#console.closeAll();
    this.#closeHandles();
    this.#servers.clear();
    this.#addresses.clear();
    await this.#pool.close();
  }
}
