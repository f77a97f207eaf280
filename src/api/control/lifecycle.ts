// A tenant server's life through the API: create (quotas counted with the creations in progress), update (serialized per server, committed before it serves), remove (committed first).

import { IsoError } from '../../core/errors.js';
import type { Registry, VersionRow } from '../registry/registry.js';
import type { Log, WorkerPool } from '../supervisor/worker-pool.js';
import type { Caller } from './caller.js';
import type { ConsoleLog } from './console-log.js';
import { envJson, freshLife, type ManagedServer, type Placement, type Secret, type ServerVersion } from './managed-server.js';
import type { Placer } from './placement.js';
import { requestHostnames } from './hostname-claims.js';
import { checkQuota, effectiveQuotas, type Quotas, serverMemoryMb } from './quotas.js';
import { runnableSource } from './typescript.js';
import type { ServerTable } from './server-table.js';
import { checkUpdateRequest, createdVersion, rollbackRequest, rollbackTarget, sourceBytes, updatedVersion } from './version-request.js';
import { type CreateRequest, type ServerView, serverView, type UpdateRequest } from './views.js';

/** A new server's secrets: none (they are written once it exists). */
const NO_SECRETS: ReadonlyMap<string, Secret> = new Map();

/** What the lifecycle needs of the server manager. */
export interface LifecycleDeps {
  readonly registry: Registry;
  readonly log: Log;
  readonly pool: WorkerPool;
  readonly placer: Placer;
  readonly servers: ServerTable;
  readonly console: ConsoleLog;
  /** The API-wide source limit, bytes: over it is 413 (the tenant quota, 403, is checked after). */
  readonly maxSourceBytes: number;
  /** Quotas of a tenant without overrides. */
  readonly quotas: Quotas;
}

/** Creates, updates and removes the servers of {@link LifecycleDeps.servers}, keeping the registry in step. */
export class ServerLifecycle {
  readonly #deps: LifecycleDeps;
  /** Creations in progress, counted against their tenant's quotas until they finish. */
  readonly #pending = new Map<string, { servers: number; memoryMb: number }>();
  /** Names of creations in progress, `tenant\0name`: a second creation of one name is refused in the same tick. */
  readonly #pendingNames = new Set<string>();

  constructor(deps: LifecycleDeps) {
    this.#deps = deps;
  }

  /**
   * Checks the tenant's quotas, binds, deploys and stores a new server of `caller`. Resolves once
   * every replica accepts connections and the row is committed.
   * @throws IsoError 400 (replicas), 403 (address policy, quota), 409 (in use, name taken), 413 (source too large), 422 (source), 503 (worker).
   */
  async create(caller: Caller, req: CreateRequest): Promise<ServerView> {
    const name = req.name ?? null;
    const nameKey = name === null ? null : `${caller.name}\0${name}`;
    if (name !== null && (this.#deps.servers.named(caller.name, name) !== undefined || this.#pendingNames.has(nameKey ?? '')))
      throw new IsoError('ISO_ERR_API_NAME_TAKEN', `you have a server named ${JSON.stringify(name)} already; deploy to it with PUT /servers/${name}`);
    // Reserved before the first await: a concurrent creation of the same name is refused above.
    if (nameKey !== null) this.#pendingNames.add(nameKey);
    try {
      return await this.#create(caller, req, name);
    } finally {
      if (nameKey !== null) this.#pendingNames.delete(nameKey);
    }
  }

  async #create(caller: Caller, req: CreateRequest, name: string | null): Promise<ServerView> {
    const { registry, console, placer, servers } = this.#deps;
    const bytes = sourceBytes(req.source, this.#deps.maxSourceBytes);
    const { language, limits, exposeErrors, vars, egress, replicas } = createdVersion(req);
    // A TypeScript source that cannot be stripped is refused before anything is bound.
    const runnable = runnableSource(req.source, language);
    const hostnames = requestHostnames(req.hostnames);
    const memoryMb = serverMemoryMb(limits, replicas);
    // Checked and counted in the same tick: concurrent creations cannot overshoot the quotas.
    checkQuota(caller.name, effectiveQuotas(this.#deps.quotas, caller.overrides), this.#usage(caller.name), { servers: 1, sourceBytes: bytes, memoryMb });
    const pending = this.#pending.get(caller.name) ?? { servers: 0, memoryMb: 0 };
    this.#pending.set(caller.name, { servers: pending.servers + 1, memoryMb: pending.memoryMb + memoryMb });
    try {
      const httpdid = await registry.nextHttpdid();
      console.open(httpdid);
      let placed: Placement;
      try {
        placed = await placer.bindAndDeploy(
          { httpdid, tenant: caller.name, host: req.host, port: req.port, hostnames, replicas },
          { source: runnable, limits, exposeErrors, env: envJson(vars, NO_SECRETS), egress },
        );
      } catch (err) {
        console.close(httpdid);
        throw err;
      }
      const now = new Date().toISOString();
      const server: ManagedServer = {
        httpdid,
        tenant: caller.name,
        name,
        host: req.host,
        port: req.port,
        hostnames,
        createdAt: now,
        updatedAt: now,
        version: { number: 1, source: runnable, limits, exposeErrors, language, tenantSource: req.source, vars, env: envJson(vars, NO_SECRETS), egress },
        secrets: NO_SECRETS,
        replicas,
        ...placed,
        state: 'running',
        ...freshLife(),
      };
      try {
        // Committed before the 201: a server is acknowledged only once it is durable.
        const stored = await registry.insertServer({
          httpdid,
          tenant: caller.name,
          name,
          host: req.host,
          port: req.port,
          hostnames,
          source: req.source,
          language,
          limits,
          exposeErrors,
          vars,
          egress,
          replicas,
          state: 'running',
          createdAt: now,
        });
        if (!stored) throw new IsoError('ISO_ERR_API_UNAUTHORIZED', `tenant ${JSON.stringify(caller.name)} was removed (or tokens were turned on) during the request`);
      } catch (err) {
        await placer.release(server);
        console.close(httpdid);
        throw err;
      }
      servers.add(server);
      this.#deps.log.info(
        { httpdid, tenant: caller.name, ...(name === null ? {} : { name }), host: req.host, port: req.port, ...(hostnames.length === 0 ? {} : { hostnames }), workers: placed.slots },
        'server deployed',
      );
      return this.#view(server);
    } finally {
      const p = this.#pending.get(caller.name);
      if (p !== undefined) {
        if (p.servers <= 1) this.#pending.delete(caller.name);
        else this.#pending.set(caller.name, { servers: p.servers - 1, memoryMb: p.memoryMb - memoryMb });
      }
    }
  }

  /** A tenant's servers and memory (`memoryMb × isolates × replicas` of its running servers), creations in progress included. */
  #usage(tenant: string): { servers: number; memoryMb: number } {
    const pending = this.#pending.get(tenant) ?? { servers: 0, memoryMb: 0 };
    const held = this.#deps.servers.usage(tenant);
    return { servers: pending.servers + held.servers, memoryMb: pending.memoryMb + held.memoryMb };
  }

  #view(server: ManagedServer): ServerView {
    return serverView(server, this.#deps.pool.stats(server.httpdid), false);
  }

  /**
   * Hot redeploy: compiles the new version on every replica first (a 422 or any failure leaves the
   * old version serving, version unchanged), then switches new requests to it while in-flight ones
   * finish on the old. Connection limits apply to connections accepted after the switch.
   * The new version is committed to the registry before it serves. Updates of one server run one
   * after the other.
   * A PUT that changes nothing (the same source, limits and exposeErrors as the version serving)
   * deploys nothing and keeps the version number.
   * @throws IsoError 400 (neither field), 403 (quota), 404 (also another tenant's), 409 (failed server), 413 (source too large), 422 (source), 503 (worker).
   */
  async update(caller: Caller, httpdid: number, req: UpdateRequest): Promise<ServerView> {
    return this.serialized(this.#deps.servers.owned(caller, httpdid), (server) => this.#update(caller, server, req));
  }

  /** Runs `change` on `server` after the changes queued before it (updates, restarts and secret changes of one server run one after the other). */
  serialized<T>(server: ManagedServer, change: (server: ManagedServer) => Promise<T>): Promise<T> {
    server.updatesPending++;
    const run = server.updating
      .then(() => change(server))
      .finally(() => {
        server.updatesPending--;
      });
    server.updating = run.catch(() => undefined);
    return run;
  }

  async #update(caller: Caller, server: ManagedServer, req: UpdateRequest): Promise<ServerView> {
    const { httpdid } = server;
    if (!this.#deps.servers.holds(server)) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
    checkUpdateRequest(req);
    if (server.state !== 'running' || server.handle === null)
      throw new IsoError('ISO_ERR_API_SERVER_FAILED', `server ${httpdid} has failed (${server.reason ?? 'not serving'}); restart it first (POST /servers/${httpdid}/restart, or isohttpd restart)`);
    const old = server.version;
    const { tenantSource, language, limits, exposeErrors, vars, egress, same } = updatedVersion(old, req);
    const bytes = sourceBytes(tenantSource, this.#deps.maxSourceBytes);
    const usage = this.#usage(caller.name);
    checkQuota(
      caller.name,
      effectiveQuotas(this.#deps.quotas, caller.overrides),
      { servers: usage.servers, memoryMb: usage.memoryMb - serverMemoryMb(old.limits, server.replicas) },
      {
        servers: 0,
        sourceBytes: bytes,
        memoryMb: serverMemoryMb(limits, server.replicas),
      },
    );
    // The same source, limits, exposeErrors, vars and egress as the version serving: nothing to deploy (an
    // idempotent PUT; `isohttpd deploy` run twice says so), the version stays.
    if (same) return this.#view(server);
    const source = runnableSource(tenantSource, language);
    const env = envJson(vars, server.secrets);
    const next: ServerVersion = { number: old.number + 1, source, limits, exposeErrors, language, tenantSource, vars, env, egress };
    const prepared = await this.#deps.pool.prepare(server.slots, { httpdid, port: server.port, source, limits, exposeErrors, env, egress, handle: server.handle });
    try {
      // The new version is compiled on every replica but not serving yet: it is made durable first;
      // if that fails, the prepared version is dropped and the old one serves on.
      const stored = await this.#deps.registry.updateServer(httpdid, {
        source: tenantSource,
        language,
        limits,
        exposeErrors,
        vars,
        egress,
        version: next.number,
        keepVersions: this.#deps.quotas.versionsKept,
      });
      if (stored === undefined) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
      server.updatedAt = stored.updatedAt;
    } catch (err) {
      await prepared.abort();
      throw err;
    }
    await prepared.commit();
    server.version = next;
    this.#deps.log.info({ httpdid, version: next.number }, 'server redeployed');
    return this.#view(server);
  }

  /**
   * Restarts a failed server: binds its address and deploys its current version again (its
   * replicas on the pool, out of quarantine), then records it running. Serialized with its updates.
   * @throws IsoError 409 (running; address in use), 403 (address policy, memory quota), 404, 422, 503.
   */
  async restart(caller: Caller, httpdid: number): Promise<ServerView> {
    return this.serialized(this.#deps.servers.owned(caller, httpdid), (server) => this.#restart(caller, server));
  }

  async #restart(caller: Caller, server: ManagedServer): Promise<ServerView> {
    const { servers, placer, registry, log } = this.#deps;
    const { httpdid } = server;
    if (!servers.holds(server)) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
    if (server.state === 'running') throw new IsoError('ISO_ERR_API_SERVER_RUNNING', `server ${httpdid} is running; restart is for a failed server (a redeploy is PUT)`);
    const { version, replicas } = server;
    // A failed server holds no memory against the quota: it will again.
    checkQuota(caller.name, effectiveQuotas(this.#deps.quotas, caller.overrides), this.#usage(caller.name), { servers: 0, sourceBytes: 0, memoryMb: serverMemoryMb(version.limits, replicas) });
    // Whatever it still held (an address left bound by the crash policy) goes first.
    await placer.release(server);
    // With the secrets as they are now (they may have changed while it was failed); stripped again,
    // so that a TypeScript source this Node.js refuses says why (422).
    const env = envJson(version.vars, server.secrets);
    const source = runnableSource(version.tenantSource, version.language);
    const placed = await placer.bindAndDeploy(server, { source, limits: version.limits, exposeErrors: version.exposeErrors, env, egress: version.egress });
    const restarted: ManagedServer = { ...server, ...placed, version: { ...version, source, env }, state: 'running', quarantined: false, crashes: [] };
    delete restarted.reason;
    try {
      await registry.setServerState(httpdid, 'running', null);
    } catch (err) {
      await placer.release(restarted);
      throw err;
    }
    // A new object: a restore still retrying the old one (its address was in use) sees it replaced and stops.
    servers.add(restarted);
    log.info({ httpdid, host: server.host, port: server.port, workers: placed.slots }, 'server restarted');
    return this.#view(restarted);
  }

  /**
   * The caller's server's kept versions, newest first (at most the `versionsKept` quota).
   * @throws IsoError 404 (also another tenant's).
   */
  async versions(caller: Caller, httpdid: number): Promise<{ current: number; versions: VersionRow[] }> {
    const server = this.#deps.servers.owned(caller, httpdid);
    return { current: server.version.number, versions: await this.#deps.registry.versions(httpdid) };
  }

  /**
   * Rollback: a hot redeploy of a kept version's source, limits and exposeErrors, as a new version
   * (numbers only grow); `to` absent: the newest kept version before the one serving.
   * @throws IsoError 404 (no such server, or that version is not kept), as {@link update} otherwise.
   */
  async rollback(caller: Caller, httpdid: number, to: number | undefined): Promise<ServerView> {
    const server = this.#deps.servers.owned(caller, httpdid);
    const kept = await this.#deps.registry.versions(httpdid);
    return this.update(caller, httpdid, rollbackRequest(rollbackTarget(httpdid, kept, server.version.number, to)));
  }

  /**
   * Deletes one of the caller's servers: the deletion is committed first, then its listeners
   * close, open connections are dropped and the port is released. @throws IsoError 404.
   */
  async remove(caller: Caller, httpdid: number): Promise<void> {
    const { registry, servers, console, placer, pool } = this.#deps;
    const server = servers.owned(caller, httpdid);
    await registry.deleteServer(httpdid);
    // A removal of the same server that ran meanwhile took it down already: this one finds nothing.
    if (!servers.holds(server)) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
    servers.delete(httpdid);
    console.close(httpdid);
    // An update under way finishes (or fails) before the server is taken down.
    await server.updating;
    await placer.release(server);
    pool.forget(httpdid);
    this.#deps.log.info({ httpdid }, 'server stopped');
  }
}
