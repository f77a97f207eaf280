// The tenant servers of this service, one facade for the API: wires the worker pool, placement, lifecycle, restore and crash policy together; console and drain go through it too.

import { IsoError } from '../../core/errors.js';
import { tenantStack } from '../../core/language.js';
import type { FromWorker, TailEvent, WorkerInfo } from '../../host/worker/protocol.js';
import type { ConsoleLines } from '../../sandbox/isolate-instance.js';
import type { ClusterServerView } from '../cluster/cluster-lifecycle.js';
import { ClusterMode, type ClusterOptions } from '../cluster/cluster-mode.js';
import type { NodeRow } from '../cluster/cluster-store.js';
import type { Registry, VersionRow } from '../registry/registry.js';
import { type Log, WorkerPool } from '../supervisor/worker-pool.js';
import type { AddressPolicy } from './address-policy.js';
import type { Caller } from './caller.js';
import { type ConsoleFollower, ConsoleLog, type LogEntry } from './console-log.js';
import { CrashPolicy } from './crash-policy.js';
import { ServerLifecycle } from './lifecycle.js';
import type { HandlerCode, ManagedServer } from './managed-server.js';
import { Placer } from './placement.js';
import type { Quotas } from './quotas.js';
import { restoreAll } from './restore.js';
import { type SecretView, ServerSecrets } from './secrets.js';
import type { SecretBox } from './secret-box.js';
import { ServerTable } from './server-table.js';
import { type TailFollower, TailHub } from './tail-hub.js';
import { type CreateRequest, type ServerMetrics, type ServerView, serverView, type UpdateRequest } from './views.js';

export type { ClusterOptions } from '../cluster/cluster-mode.js';
export type { TailEntry, TailFollower } from './tail-hub.js';
export { CONSOLE_LINES_KEPT, type ConsoleFollower, type ConsoleLine, type LogEntry, type RequestEntry } from './console-log.js';
export type { CreateRequest, ServerMetrics, ServerView, StatsView, UpdateRequest } from './views.js';

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
  /** Ceiling of each worker's resident set, MiB; 0: automatic. */
  readonly workerRssLimitMb: number;
  /** Networks the operator opened to outbound fetch (config `egressAllowNetworks`). */
  readonly egressAllowNetworks?: readonly string[];
  /** The balancers' networks: connections from them must start with a PROXY v2 header (config `proxyProtocol.from`). */
  readonly proxyProtocolFrom?: readonly string[];
  /** Seals and opens the servers' secrets. */
  readonly secrets: SecretBox;
  /** Cluster mode (a PostgreSQL registry shared by several nodes, src/api/cluster/cluster-mode.ts); absent: one node. */
  readonly cluster?: ClusterOptions;
}

/**
 * Owns every tenant server: the bound handles (held here for the server's whole life, so a port
 * stays bound while a worker is replaced) and the worker pool, and writes every change to the
 * registry (committed before the method resolves). Each method acts for one tenant ({@link Caller})
 * and sees only that tenant's servers: another tenant's httpdid is 404 like a missing one.
 */
export class ServerManager {
  readonly #pool: WorkerPool;
  readonly #servers = new ServerTable();
  /** The last console lines of each server's handler, and their followers. */
  readonly #console: ConsoleLog;
  /** The tails of the servers someone follows (GET /servers/:httpdid/tail). */
  readonly #tail: TailHub;
  readonly #placer: Placer;
  readonly #lifecycle: ServerLifecycle;
  readonly #secrets: ServerSecrets;
  readonly #cluster: ClusterMode | null = null;
  #handlesClosed = false;

  private constructor(opts: ManagerOptions, pool: WorkerPool) {
    this.#pool = pool;
    this.#tail = new TailHub((ids) => pool.setTailed(ids));
    this.#console = new ConsoleLog((httpdid) => (httpdid === null ? this.#tail.closeAll() : this.#tail.close(httpdid)));
    const cluster = opts.cluster;
    // A node binds placed servers on its own address only; the API checks the public one (allowedHosts).
    this.#placer = new Placer(pool, cluster === undefined ? opts.policy : { ...opts.policy, allowedHosts: [cluster.nodeAddress] });
    const shared = { registry: opts.registry, log: opts.log, pool, placer: this.#placer, servers: this.#servers, console: this.#console };
    if (cluster !== undefined)
      this.#cluster = new ClusterMode(cluster, {
        ...shared,
        box: opts.secrets,
        policy: opts.policy,
        quotas: opts.quotas,
        maxSourceBytes: opts.maxSourceBytes,
      });
    this.#lifecycle = new ServerLifecycle({ ...shared, maxSourceBytes: opts.maxSourceBytes, quotas: opts.quotas });
    const lifecycle = this.#lifecycle;
    this.#secrets = new ServerSecrets({ ...shared, box: opts.secrets, serialized: (server, change) => lifecycle.serialized(server, change) });
    const crashes = new CrashPolicy({ ...shared, placer: this.#placer });
    pool.on('crash', (httpdid: number, reason: string) => void crashes.onCrash(httpdid, reason));
    pool.on('console', (httpdid: number, time: number, lines: ConsoleLines) => {
      this.#console.add(httpdid, time, lines);
      this.#tail.console(httpdid, time, lines);
    });
    pool.on('tail', (httpdid: number, events: readonly TailEvent[], dropped: number) =>
      this.#tail.requests(
        httpdid,
        events.map((e) => this.#inTenantTerms(httpdid, e)),
        dropped,
      ),
    );
    pool.on('request', (msg: Extract<FromWorker, { op: 'outcome' }>) => this.#console.addRequest(msg.httpdid, msg.time, msg.outcome, this.#inTenantTerms(msg.httpdid, msg)));
  }

  /**
   * Starts the worker pool and restores every stored server: each `running` one is bound and
   * deployed again before this resolves; one whose address is still in use is retried in the
   * background (see restore.ts); one that cannot be restored otherwise is stored and shown as
   * `failed` with the reason. Stored `failed` servers are shown as they are.
   */
  static async start(opts: ManagerOptions): Promise<ServerManager> {
    const pool = await WorkerPool.start(opts.workers, opts.log, {
      rssLimitMb: opts.workerRssLimitMb,
      egressAllowNetworks: opts.egressAllowNetworks ?? [],
      proxyProtocolFrom: opts.proxyProtocolFrom ?? [],
    });
    const manager = new ServerManager(opts, pool);
    // A cluster node restores nothing by itself: it serves what the leader places on it once it joins.
    if (opts.cluster !== undefined) return manager;
    await restoreAll({
      registry: opts.registry,
      log: opts.log,
      placer: manager.#placer,
      servers: manager.#servers,
      console: manager.#console,
      box: opts.secrets,
      stopping: () => manager.#handlesClosed,
    });
    return manager;
  }

  /** A failed request as the tenant is shown it: its stack's frames named after the tenant's file (handler.ts for TypeScript). */
  #inTenantTerms<T extends { readonly stack?: string }>(httpdid: number, e: T): T {
    const language = this.#servers.get(httpdid)?.version.language;
    return e.stack === undefined || language !== 'typescript' ? e : { ...e, stack: tenantStack(e.stack, language) };
  }

  /** Sets the API's own address once it is bound (a port of 0 is only known then). */
  setApiAddress(address: string, port: number): void {
    this.#placer.setApiAddress(address, port);
  }

  /** Whether this service is a node of a cluster. */
  get clustered(): boolean {
    return this.#cluster !== null;
  }

  /**
   * Cluster mode: joins the cluster (first heartbeat, change feed, leadership tries, a first
   * reconcile) once the API answers at `apiUrl`. @throws IsoError 503 when the database cannot be reached; Error outside cluster mode.
   */
  async joinCluster(apiUrl: string): Promise<void> {
    if (this.#cluster === null) throw new Error('not in cluster mode');
    await this.#cluster.join(apiUrl);
  }

  /** Cluster mode: this node's name, whether it leads, and every node as the database knows it. @throws IsoError 404 outside cluster mode, 503. */
  async clusterNodes(): Promise<{ node: string; leader: boolean; nodes: NodeRow[] }> {
    if (this.#cluster === null) throw new IsoError('ISO_ERR_API_ROUTE_NOT_FOUND', 'this service is not a node of a cluster (no --node-name)');
    return this.#cluster.nodes();
  }

  /** Number of servers (all tenants, running or failed). */
  get count(): number {
    return this.#servers.size;
  }

  /** Servers (all tenants) serving now, and not serving (failed, or waiting for their address). */
  states(): { running: number; failed: number } {
    let running = 0;
    for (const s of this.#servers.values()) if (s.state === 'running') running++;
    return { running, failed: this.#servers.size - running };
  }

  /** Process ids of the sandbox workers, by slot. */
  workerPids(): Promise<number[]> {
    return this.#pool.pids();
  }

  /** Pid, Node.js and V8 version of each sandbox worker up now. */
  workerRuntimes(): WorkerInfo[] {
    return this.#pool.workerRuntimes();
  }

  /** Sandbox workers up now. */
  workersUp(): number {
    return this.#pool.workersUp();
  }

  /**
   * Checks the tenant's quotas, binds, deploys and stores a new server of `caller`. Resolves once
   * every replica accepts connections and the row is committed.
   * @throws IsoError 400 (replicas), 403 (address policy, quota), 409 (in use), 413 (source too large), 422 (source), 503 (worker).
   */
  create(caller: Caller, req: CreateRequest): Promise<ServerView | ClusterServerView> {
    if (this.#cluster !== null) return this.#cluster.lifecycle.create(caller, req);
    return this.#lifecycle.create(caller, req);
  }

  /**
   * Hot redeploy of one of the caller's servers: the new version is compiled on every replica,
   * committed to the registry, then switched on; any failure leaves the old one serving.
   * @throws IsoError 400 (neither field), 403 (quota), 404 (also another tenant's), 409 (failed server), 413 (source too large), 422 (source), 503 (worker).
   */
  update(caller: Caller, httpdid: number, req: UpdateRequest): Promise<ServerView | ClusterServerView> {
    if (this.#cluster !== null) return this.#cluster.lifecycle.update(caller, httpdid, req);
    return this.#lifecycle.update(caller, httpdid, req);
  }

  /**
   * Compile check of a server version's code before anything is committed (cluster mode: the node
   * taking `POST /servers` or `PUT /servers/:id` may not be one that serves it): a sandbox worker
   * instantiates it as a deploy would and disposes it. `code` is what the lifecycle deploys (its
   * source already stripped of TypeScript types by runnableSource). Resolves when a deploy would
   * accept it. @throws IsoError 422 ISO_ERR_API_INVALID_SOURCE with the message a deploy gives, 503 (worker), 500.
   */
  checkSource(code: HandlerCode): Promise<void> {
    return this.#pool.check(code);
  }

  /**
   * Deletes one of the caller's servers: the deletion is committed first, then its listeners
   * close, open connections are dropped and the port is released. @throws IsoError 404.
   */
  remove(caller: Caller, httpdid: number): Promise<void> {
    if (this.#cluster !== null) return this.#cluster.lifecycle.remove(caller, httpdid);
    return this.#lifecycle.remove(caller, httpdid);
  }

  /** Binds and deploys a failed server's current version again. @throws IsoError 409 (running, address in use), 403, 404, 422, 503. */
  restart(caller: Caller, httpdid: number): Promise<ServerView | ClusterServerView> {
    if (this.#cluster !== null) return this.#cluster.lifecycle.restart(caller, httpdid);
    return this.#lifecycle.restart(caller, httpdid);
  }

  /** The caller's server's kept versions, newest first, and the number of the one serving. @throws IsoError 404. */
  versions(caller: Caller, httpdid: number): Promise<{ current: number; versions: VersionRow[] }> {
    if (this.#cluster !== null) return this.#cluster.lifecycle.versions(caller, httpdid);
    return this.#lifecycle.versions(caller, httpdid);
  }

  /** Hot redeploy of a kept version as a new version (`to` absent: the one before the current). @throws IsoError 404, and as {@link update}. */
  rollback(caller: Caller, httpdid: number, to: number | undefined): Promise<ServerView | ClusterServerView> {
    if (this.#cluster !== null) return this.#cluster.lifecycle.rollback(caller, httpdid, to);
    return this.#lifecycle.rollback(caller, httpdid, to);
  }

  /** The names of the caller's server's secrets, and when each was written (never a value). @throws IsoError 404. */
  async secrets(caller: Caller, httpdid: number): Promise<SecretView[]> {
    if (this.#cluster !== null) return this.#cluster.lifecycle.secrets(caller, httpdid);
    return this.#secrets.list(caller, httpdid);
  }

  /** Writes a secret of the caller's server (sealed at rest) and redeploys the serving version with it. @throws IsoError 403, 404, 422, 503. */
  putSecret(caller: Caller, httpdid: number, name: string, value: string): Promise<SecretView> {
    if (this.#cluster !== null) return this.#cluster.lifecycle.putSecret(caller, httpdid, name, value);
    return this.#secrets.put(caller, httpdid, name, value);
  }

  /** Deletes a secret of the caller's server and redeploys the serving version without it. @throws IsoError 404 (also ISO_ERR_API_SECRET_NOT_FOUND), 422, 503. */
  removeSecret(caller: Caller, httpdid: number, name: string): Promise<void> {
    if (this.#cluster !== null) return this.#cluster.lifecycle.removeSecret(caller, httpdid, name);
    return this.#secrets.remove(caller, httpdid, name);
  }

  /**
   * The httpdid of the caller's server that `ref` names: an httpdid (all digits), or the server's name.
   * @throws IsoError 404 (also for another tenant's).
   */
  async httpdidOf(caller: Caller, ref: string): Promise<number> {
    if (this.#cluster !== null) return this.#cluster.lifecycle.httpdidOf(caller, ref);
    return this.#servers.resolve(caller, ref).httpdid;
  }

  #view(server: ManagedServer, withSource: boolean): ServerView {
    return serverView(server, this.#pool.stats(server.httpdid), withSource);
  }

  /** The caller's servers, in httpdid order, with their counters read now (at most FRESH_STATS_WAIT_MS per worker). */
  async list(caller: Caller): Promise<Array<ServerView | ClusterServerView>> {
    if (this.#cluster !== null) return this.#cluster.lifecycle.list(caller);
    await this.#pool.refresh();
    return this.#servers
      .all()
      .filter((s) => s.tenant === caller.name)
      .map((s) => this.#view(s, false));
  }

  /** One of the caller's servers, with its source if asked, its counters read now (at most FRESH_STATS_WAIT_MS per worker). @throws IsoError 404 (also for another tenant's). */
  async get(caller: Caller, httpdid: number, withSource: boolean): Promise<ServerView | ClusterServerView> {
    if (this.#cluster !== null) return this.#cluster.lifecycle.get(caller, httpdid, withSource);
    const server = this.#servers.owned(caller, httpdid);
    await this.#pool.refresh();
    return this.#view(server, withSource);
  }

  /**
   * Checks that the caller owns `httpdid`. One node: its table. Cluster mode: ownership was checked
   * in the database by {@link httpdidOf} (the route's target) and the logs and tail are this node's
   * (empty where it does not serve the server): a server served elsewhere is not a 404.
   */
  #ownedHere(caller: Caller, httpdid: number): void {
    if (this.#cluster === null) this.#servers.owned(caller, httpdid);
  }

  /** Reads every worker's counters now, for a `/metrics` scrape (at most FRESH_STATS_WAIT_MS per worker). */
  refreshStats(): Promise<void> {
    return this.#pool.refresh();
  }

  /** Raw counters of every server (histogram buckets included), for `GET /metrics`. */
  metrics(): ServerMetrics[] {
    return this.#servers.all().map((s) => ({ httpdid: s.httpdid, tenant: s.tenant, state: s.state, stats: this.#pool.stats(s.httpdid) }));
  }

  /** The last log entries (console lines, requests that did not end ok) of one of the caller's servers, oldest first. @throws IsoError 404. */
  consoleLines(caller: Caller, httpdid: number): LogEntry[] {
    this.#ownedHere(caller, httpdid);
    return this.#console.lines(httpdid);
  }

  /**
   * Calls `follower` with every log entry of a server from now on, until the server is
   * deleted (then `end()`) or the returned function is called. Take {@link consoleLines} in the
   * same tick to get the lines before. @throws IsoError 404.
   */
  followConsole(caller: Caller, httpdid: number, follower: ConsoleFollower): () => void {
    this.#ownedHere(caller, httpdid);
    return this.#console.follow(httpdid, follower);
  }

  /**
   * Sends `follower` every request of one of the caller's servers from now on (with the console
   * lines its handler wrote), and console lines tied to no request, until the server is deleted or
   * the service stops (then `end`), or `stop` is called; `ready` settles once every worker tails it. @throws IsoError 404.
   */
  followTail(caller: Caller, httpdid: number, follower: TailFollower): { readonly stop: () => void; readonly ready: Promise<void> } {
    this.#ownedHere(caller, httpdid);
    return this.#tail.follow(httpdid, follower);
  }

  /**
   * Graceful stop, part one: no server accepts new connections any more (the control process's
   * sockets close, each worker closes its listeners), and requests in flight finish, for at most
   * `timeoutMs`. The registry is untouched: the servers are restored at the next start.
   */
  async drain(timeoutMs: number): Promise<void> {
    // A cluster node hands its servers over first (the others serve them before this one stops).
    await this.#cluster?.leave(timeoutMs);
    this.#closeHandles();
    await this.#pool.drain(timeoutMs);
  }

  #closeHandles(): void {
    if (this.#handlesClosed) return;
    this.#handlesClosed = true;
    this.#placer.closeHandles();
  }

  /** Stops every server and the workers (the registry keeps them: they are restored at the next start). */
  async close(): Promise<void> {
    await this.#cluster?.leave();
    this.#console.closeAll();
    this.#closeHandles();
    this.#servers.clear();
    this.#placer.clear();
    await this.#pool.close();
  }
}
