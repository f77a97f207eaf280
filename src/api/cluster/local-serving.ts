// What one cluster node serves itself: a server placed on it is adopted (bound on the node's own address, deployed on one worker slot), followed to each new revision by a hot redeploy, and dropped when it is placed elsewhere or deleted.

import { createHash } from 'node:crypto';
import type { Registry, SecretRow, ServerRow } from '../registry/registry.js';
import type { Log, WorkerPool } from '../supervisor/worker-pool.js';
import type { ConsoleLog } from '../control/console-log.js';
import { type ManagedServer, storedServer } from '../control/managed-server.js';
import type { Placer } from '../control/placement.js';
import { versionOf } from '../control/restore.js';
import type { SecretBox } from '../control/secret-box.js';
import type { ServerTable } from '../control/server-table.js';

/**
 * What a node serves of a server, as reported (`cluster_reports.revision`): its version number and
 * a digest of its secrets' names and write times (a secret change redeploys the same version
 * number with another environment).
 */
export function revisionOf(version: number, secrets: readonly Pick<SecretRow, 'name' | 'updatedAt'>[]): string {
  if (secrets.length === 0) return `${version}`;
  const list = [...secrets].map((s) => `${s.name}\0${s.updatedAt}`).sort();
  return `${version}:${createHash('sha256').update(list.join('\n')).digest('hex').slice(0, 16)}`;
}

/** What local serving needs of the server manager. */
export interface LocalServingDeps {
  readonly registry: Registry;
  readonly log: Log;
  readonly pool: WorkerPool;
  /** Places on this node's own address only (its policy allows just `nodeAddress`). */
  readonly placer: Placer;
  /** The servers this node serves (the manager's table: stats, logs and tail see them). */
  readonly servers: ServerTable;
  readonly console: ConsoleLog;
  readonly box: SecretBox;
  /** This node's own address (config `nodeAddress`): every placed server binds its port there. */
  readonly nodeAddress: string;
}

/** The servers one node serves, kept in step with the rows placed on it. */
export class LocalServing {
  readonly #deps: LocalServingDeps;
  /** The revision each local server serves, by httpdid. */
  readonly #revisions = new Map<number, string>();

  constructor(deps: LocalServingDeps) {
    this.#deps = deps;
  }

  /** The httpdids served here. */
  served(): number[] {
    return [...this.#revisions.keys()];
  }

  /** The revision served here of `httpdid`, or undefined. */
  revision(httpdid: number): string | undefined {
    return this.#revisions.get(httpdid);
  }

  /**
   * Serves `row` at `revision` here: adopts it if new (binding `nodeAddress`:port, one replica),
   * hot-redeploys it if it serves another revision, re-adopts it if it failed here.
   * @throws what binding or deploying throws (the caller reports it failed); nothing is left half-placed.
   */
  async serve(row: ServerRow, revision: string): Promise<void> {
    const local = this.#deps.servers.get(row.httpdid);
    if (local !== undefined && local.state === 'running' && local.handle !== null) {
      if (this.#revisions.get(row.httpdid) === revision) return;
      await this.#follow(local, row, revision);
      return;
    }
    if (local !== undefined) await this.drop(row.httpdid);
    await this.#adopt(row, revision);
  }

  async #adopt(row: ServerRow, revision: string): Promise<void> {
    const { placer, servers, console, log, nodeAddress } = this.#deps;
    const { version, secrets, error } = await versionOf(this.#deps, row);
    if (error !== null) throw new Error(error);
    console.open(row.httpdid);
    let placed;
    try {
      placed = await placer.bindAndDeploy({ httpdid: row.httpdid, tenant: row.tenant, host: nodeAddress, port: row.port, hostnames: row.hostnames, replicas: 1 }, version);
    } catch (err) {
      console.close(row.httpdid);
      throw err;
    }
    const server: ManagedServer = { ...storedServer(row, version, secrets), ...placed, state: 'running' };
    servers.add(server);
    this.#revisions.set(row.httpdid, revision);
    log.info({ httpdid: row.httpdid, address: nodeAddress, port: row.port, revision, workers: placed.slots }, 'cluster: server adopted on this node');
  }

  async #follow(server: ManagedServer, row: ServerRow, revision: string): Promise<void> {
    const { version, secrets, error } = await versionOf(this.#deps, row);
    if (error !== null) throw new Error(error);
    const { handle } = server;
    if (handle === null) throw new Error(`server ${row.httpdid} is not bound on this node`);
    const { source, limits, exposeErrors, env, egress } = version;
    const prepared = await this.#deps.pool.prepare(server.slots, { httpdid: row.httpdid, port: row.port, source, limits, exposeErrors, env, egress, handle });
    await prepared.commit();
    server.version = version;
    server.secrets = secrets;
    server.updatedAt = row.updatedAt;
    this.#revisions.set(row.httpdid, revision);
    this.#deps.log.info({ httpdid: row.httpdid, revision }, 'cluster: server redeployed on this node');
  }

  /** Stops serving `httpdid` here (its listener closes, the port is released); nothing when it is not served here. */
  async drop(httpdid: number): Promise<void> {
    const { servers, console, placer, pool, log } = this.#deps;
    const server = servers.get(httpdid);
    this.#revisions.delete(httpdid);
    if (server === undefined) return;
    servers.delete(httpdid);
    console.close(httpdid);
    await server.updating;
    await placer.release(server);
    pool.forget(httpdid);
    log.info({ httpdid }, 'cluster: server dropped from this node');
  }
}
