// A tenant server's life through any node's API in cluster mode: every change is checked (compile check on a local worker), admitted and committed in the shared database, notified by id, then answered once the placed nodes report it served, or 202 after cluster.readyWaitMs.

import { IsoError } from '../../core/errors.js';
import type { Admission, Registry, VersionRow } from '../registry/registry.js';
import type { Log, WorkerPool } from '../supervisor/worker-pool.js';
import { type AddressPolicy, checkAddress, checkShare } from '../control/address-policy.js';
import type { Caller } from '../control/caller.js';
import { checkClaims, requestHostnames } from '../control/hostname-claims.js';
import { envJson } from '../control/managed-server.js';
import { checkQuota, effectiveQuotas, type Quotas, serverMemoryMb } from '../control/quotas.js';
import type { SecretBox } from '../control/secret-box.js';
import { MAX_SECRETS, type SecretView } from '../control/secrets.js';
import type { ServerTable } from '../control/server-table.js';
import { runnableSource } from '../control/typescript.js';
import { checkUpdateRequest, createdVersion, rollbackRequest, rollbackTarget, sourceBytes, updatedVersion } from '../control/version-request.js';
import type { CreateRequest, ServerView, UpdateRequest } from '../control/views.js';
import type { ClusterStore } from './cluster-store.js';
import { type ClusterStatus, clusterServerView, clusterStatus } from './cluster-views.js';
import { revisionOf } from './local-serving.js';

/** How often a waiting call reads the reports again, ms. */
const POLL_MS = 100;

/** A server view in cluster mode. */
export type ClusterServerView = ServerView & { cluster: ClusterStatus };

/** What the cluster lifecycle needs. */
export interface ClusterLifecycleDeps {
  readonly store: ClusterStore;
  readonly registry: Registry;
  readonly pool: WorkerPool;
  /** The configured policy: `allowedHosts` are the cluster's public addresses. */
  readonly policy: AddressPolicy;
  readonly quotas: Quotas;
  readonly maxSourceBytes: number;
  readonly box: SecretBox;
  readonly log: Log;
  /** The servers this node serves (their counters are shown). */
  readonly servers: ServerTable;
  readonly leaseMs: number;
  readonly readyWaitMs: number;
}

/** Creates, changes and removes servers cluster-wide; any node runs it for any server. */
export class ClusterLifecycle {
  readonly #d: ClusterLifecycleDeps;

  constructor(deps: ClusterLifecycleDeps) {
    this.#d = deps;
  }

  /**
   * Creates a server: checked, compiled on a worker of this node, admitted and stored in one
   * transaction (address, hostnames, quotas and name hold cluster-wide), then placed by the leader.
   * @throws IsoError 400, 403, 409, 413, 422, 503.
   */
  async create(caller: Caller, req: CreateRequest): Promise<ClusterServerView> {
    const bytes = sourceBytes(req.source, this.#d.maxSourceBytes);
    const { language, limits, exposeErrors, vars, egress, replicas } = createdVersion(req);
    const source = runnableSource(req.source, language);
    const hostnames = requestHostnames(req.hostnames);
    const { host, port } = req;
    checkAddress(this.#d.policy, host, port, host);
    const quotas = effectiveQuotas(this.#d.quotas, caller.overrides);
    const memoryMb = serverMemoryMb(limits, replicas);
    checkQuota(caller.name, quotas, { servers: 0, memoryMb: 0 }, { servers: 0, sourceBytes: bytes, memoryMb: 0 });
    await this.#d.pool.check({ source, limits, exposeErrors, env: envJson(vars, new Map()), egress });
    const where = `${host} port ${port}`;
    const admit: Admission = (state) => {
      if (hostnames.length === 0 && state.sameAddress.length > 0) throw new IsoError('ISO_ERR_API_ADDRESS_IN_USE', `${where} is already in use by another server`);
      if (hostnames.length > 0) {
        if (state.sameAddress.some((s) => s.hostnames.length === 0))
          throw new IsoError('ISO_ERR_API_ADDRESS_IN_USE', `${where} is already in use by a server without hostnames (it has the address to itself)`);
        checkShare(this.#d.policy, caller.name, new Set(state.sameAddress.map((s) => s.tenant)), host, port);
        checkClaims({ tenant: caller.name, hostnames }, state.sameAddress, where);
        const other = state.sameAddress[0];
        if (other !== undefined && other.replicas !== replicas)
          throw new IsoError('ISO_ERR_API_BAD_REQUEST', `body.replicas must be ${other.replicas} on ${where}: every server of a shared address runs on the same nodes`);
      }
      checkQuota(caller.name, quotas, { servers: state.tenantServers, memoryMb: state.tenantMemoryMb }, { servers: 1, sourceBytes: bytes, memoryMb });
    };
    const httpdid = await this.#d.registry.nextHttpdid();
    const name = req.name ?? null;
    const row = {
      httpdid,
      tenant: caller.name,
      name,
      host,
      port,
      hostnames,
      source: req.source,
      language,
      limits,
      exposeErrors,
      vars,
      egress,
      replicas,
      state: 'running' as const,
      createdAt: new Date().toISOString(),
    };
    if (!(await this.#d.registry.insertServer(row, admit)))
      throw new IsoError('ISO_ERR_API_UNAUTHORIZED', `tenant ${JSON.stringify(caller.name)} was removed (or tokens were turned on) during the request`);
    this.#d.log.info({ httpdid, tenant: caller.name, host, port, replicas }, 'cluster: server created');
    return this.#announce(httpdid);
  }

  /** Notifies a change of `httpdid`, then waits for the placed nodes to serve what is stored now, and shows it. */
  async #announce(httpdid: number): Promise<ClusterServerView> {
    await this.#d.store.notify({ kind: 'server', httpdid });
    const row = await this.#d.store.server(httpdid);
    if (row === undefined) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
    const secrets = await this.#d.registry.secrets(httpdid);
    const revision = revisionOf(row.version, secrets);
    const deadline = Date.now() + this.#d.readyWaitMs;
    for (;;) {
      const status = await this.#status(httpdid, revision);
      const settled = status.nodes.length > 0 && status.nodes.every((n) => n.state !== 'pending');
      if (status.ready || settled || row.state !== 'running' || Date.now() >= deadline) return this.#viewOf(row, secrets, status, false);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async #status(httpdid: number, revision: string): Promise<ClusterStatus> {
    // One after the other: a waiting call holds at most one pooled connection at a time.
    const placed = await this.#d.store.placementsOf(httpdid);
    const reports = await this.#d.store.reportsOf(httpdid);
    const nodes = await this.#d.store.nodes(this.#d.leaseMs);
    return clusterStatus(revision, placed, reports, nodes);
  }

  #viewOf(row: Parameters<typeof clusterServerView>[0], secrets: Parameters<typeof clusterServerView>[1], status: ClusterStatus, withSource: boolean): ClusterServerView {
    return clusterServerView(row, secrets, status, this.#d.pool.stats(row.httpdid), this.#d.servers.get(row.httpdid), withSource);
  }

  /** The caller's stored server. @throws IsoError 404 (also another tenant's). */
  async #owned(caller: Caller, httpdid: number): Promise<NonNullable<Awaited<ReturnType<ClusterStore['server']>>>> {
    const row = await this.#d.store.server(httpdid);
    if (row === undefined || row.tenant !== caller.name) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
    return row;
  }

  /** The httpdid `ref` names among the caller's servers (an httpdid or a name). @throws IsoError 404. */
  async httpdidOf(caller: Caller, ref: string): Promise<number> {
    if (/^[0-9]+$/.test(ref)) return (await this.#owned(caller, Number(ref))).httpdid;
    const row = (await this.#d.registry.serversOf(caller.name)).find((s) => s.name === ref);
    if (row === undefined) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server named ${JSON.stringify(ref)}`);
    return row.httpdid;
  }

  /** Checks that the caller owns `httpdid`. @throws IsoError 404. */
  async owned(caller: Caller, httpdid: number): Promise<void> {
    await this.#owned(caller, httpdid);
  }

  /**
   * Hot redeploy cluster-wide, under the server's lock: compiled here first (a 422 changes
   * nothing), committed as the next version, then each placed node follows.
   * @throws IsoError 400, 403, 404, 409 (failed), 413, 422, 503.
   */
  async update(caller: Caller, httpdid: number, req: UpdateRequest): Promise<ClusterServerView> {
    // The lock covers the read, the checks and the write; the wait for the nodes comes after it.
    await this.#d.store.withServerLock(httpdid, async () => {
      const row = await this.#owned(caller, httpdid);
      checkUpdateRequest(req);
      if (row.state !== 'running')
        throw new IsoError('ISO_ERR_API_SERVER_FAILED', `server ${httpdid} has failed (${row.reason ?? 'not serving'}); restart it first (POST /servers/${httpdid}/restart, or isohttpd restart)`);
      const { tenantSource, language, limits, exposeErrors, vars, egress, same } = updatedVersion({ ...row, tenantSource: row.source }, req);
      const bytes = sourceBytes(tenantSource, this.#d.maxSourceBytes);
      if (same) return;
      const quotas = effectiveQuotas(this.#d.quotas, caller.overrides);
      checkQuota(caller.name, quotas, { servers: 0, memoryMb: 0 }, { servers: 0, sourceBytes: bytes, memoryMb: 0 });
      const source = runnableSource(tenantSource, language);
      await this.#d.pool.check({ source, limits, exposeErrors, env: envJson(vars, new Map()), egress });
      const memoryMb = serverMemoryMb(limits, row.replicas);
      const admit: Admission = (state) => checkQuota(caller.name, quotas, { servers: state.tenantServers, memoryMb: state.tenantMemoryMb }, { servers: 0, sourceBytes: bytes, memoryMb });
      const change = { source: tenantSource, language, limits, exposeErrors, vars, egress, version: row.version + 1, keepVersions: this.#d.quotas.versionsKept };
      if ((await this.#d.registry.updateServer(httpdid, change, admit)) === undefined) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
      this.#d.log.info({ httpdid, version: change.version }, 'cluster: server redeployed');
    });
    return this.#announce(httpdid);
  }

  /** Rollback as a new version (see ServerLifecycle.rollback). @throws IsoError 404 (no such version), as {@link update}. */
  async rollback(caller: Caller, httpdid: number, to: number | undefined): Promise<ClusterServerView> {
    const row = await this.#owned(caller, httpdid);
    const kept = await this.#d.registry.versions(httpdid);
    return this.update(caller, httpdid, rollbackRequest(rollbackTarget(httpdid, kept, row.version, to)));
  }

  /** The kept versions, newest first, and the current one. @throws IsoError 404. */
  async versions(caller: Caller, httpdid: number): Promise<{ current: number; versions: VersionRow[] }> {
    const row = await this.#owned(caller, httpdid);
    return { current: row.version, versions: await this.#d.registry.versions(httpdid) };
  }

  /** Restarts a failed server: stored running again, placed by the leader. @throws IsoError 409 (running), 403 (memory quota), 404. */
  async restart(caller: Caller, httpdid: number): Promise<ClusterServerView> {
    await this.#d.store.withServerLock(httpdid, async () => {
      const row = await this.#owned(caller, httpdid);
      if (row.state === 'running') throw new IsoError('ISO_ERR_API_SERVER_RUNNING', `server ${httpdid} is running; restart is for a failed server (a redeploy is PUT)`);
      await this.#d.registry.setServerState(httpdid, 'running', null);
      this.#d.log.info({ httpdid }, 'cluster: server restarted');
    });
    return this.#announce(httpdid);
  }

  /** Deletes a server (committed first), then waits (at most readyWaitMs) for every node to stop serving it. @throws IsoError 404. */
  async remove(caller: Caller, httpdid: number): Promise<void> {
    await this.#d.store.withServerLock(httpdid, async () => {
      await this.#owned(caller, httpdid);
      if (!(await this.#d.registry.deleteServer(httpdid))) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
      this.#d.log.info({ httpdid }, 'cluster: server deleted');
    });
    await this.#d.store.notify({ kind: 'server', httpdid });
    const deadline = Date.now() + this.#d.readyWaitMs;
    while ((await this.#d.store.reportsOf(httpdid)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
  }

  /** The caller's servers, from the database, in httpdid order. */
  async list(caller: Caller): Promise<ClusterServerView[]> {
    const [rows, placements, reports, nodes] = await Promise.all([this.#d.registry.serversOf(caller.name), this.#d.store.placements(), this.#d.store.reports(), this.#d.store.nodes(this.#d.leaseMs)]);
    await this.#d.pool.refresh();
    const out: ClusterServerView[] = [];
    for (const row of rows) {
      const secrets = await this.#d.registry.secrets(row.httpdid);
      const status = clusterStatus(revisionOf(row.version, secrets), placements.get(row.httpdid) ?? [], reports.get(row.httpdid) ?? [], nodes);
      out.push(this.#viewOf(row, secrets, status, false));
    }
    return out;
  }

  /** One of the caller's servers. @throws IsoError 404. */
  async get(caller: Caller, httpdid: number, withSource: boolean): Promise<ClusterServerView> {
    const row = await this.#owned(caller, httpdid);
    const secrets = await this.#d.registry.secrets(httpdid);
    await this.#d.pool.refresh();
    return this.#viewOf(row, secrets, await this.#status(httpdid, revisionOf(row.version, secrets)), withSource);
  }

  /** The names of a server's secrets. @throws IsoError 404. */
  async secrets(caller: Caller, httpdid: number): Promise<SecretView[]> {
    await this.#owned(caller, httpdid);
    return (await this.#d.registry.secrets(httpdid)).map((s) => ({ name: s.name, updatedAt: s.updatedAt }));
  }

  /** Writes a secret (sealed) and waits for the placed nodes to serve with it. @throws IsoError 403, 404. */
  async putSecret(caller: Caller, httpdid: number, name: string, value: string): Promise<SecretView> {
    const written = await this.#d.store.withServerLock(httpdid, async () => {
      await this.#owned(caller, httpdid);
      const have = await this.#d.registry.secrets(httpdid);
      if (!have.some((s) => s.name === name) && have.length >= MAX_SECRETS) throw new IsoError('ISO_ERR_API_QUOTA', `server ${httpdid} has ${MAX_SECRETS} secrets already, the most a server may have`);
      const updatedAt = await this.#d.registry.putSecret(httpdid, name, this.#d.box.seal(httpdid, name, value));
      if (updatedAt === undefined) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
      this.#d.log.info({ httpdid, secret: name }, 'secret written');
      return { name, updatedAt };
    });
    await this.#announce(httpdid);
    return written;
  }

  /** Deletes a secret and waits for the placed nodes to serve without it. @throws IsoError 404. */
  async removeSecret(caller: Caller, httpdid: number, name: string): Promise<void> {
    await this.#d.store.withServerLock(httpdid, async () => {
      await this.#owned(caller, httpdid);
      if (!(await this.#d.registry.deleteSecret(httpdid, name))) throw new IsoError('ISO_ERR_API_SECRET_NOT_FOUND', `server ${httpdid} has no secret ${JSON.stringify(name)}`);
      this.#d.log.info({ httpdid, secret: name }, 'secret deleted');
    });
    await this.#announce(httpdid);
  }
}
