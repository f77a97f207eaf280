// The PostgreSQL registry (the Registry of ./registry.ts) on a pg connection pool: the same rows as the SQLite engine, shared by every node that opens the same database; schema in migrations/postgres/.

import pg, { type PoolClient } from 'pg';
import { IsoError } from '../../core/errors.js';
import { inTransaction, isRetryable, isUniqueViolation, migrate, query, sqlState, translate } from './postgres-support.js';
import { type RawServer, type RawTenant, type RawVersion, readAdmission, readAdmissionOf, toServer, toTenant, toVersion } from './postgres-rows.js';
import type { Admission, NewServerRow, QuotaOverrides, Registry, RemoveTenantResult, SecretRow, ServerChange, ServerRow, TenantRow, VersionRow } from './registry.js';
import { hashToken, invalidTenantName, newToken, TENANT_NAME } from './tenant-tokens.js';

/** Connections per node when the config does not say (`registryPoolSize`), count. */
export const DEFAULT_POOL_SIZE = 10;
/** How long a call waits for a connection (to connect, or for a free one of the pool) before it fails with 503, ms. */
const CONNECT_TIMEOUT_MS = 5000;
/** How many times a serializable transaction is run before its serialization failure is the caller's, count. */
const MAX_ATTEMPTS = 20;

/** Options of {@link PostgresRegistry.open}. */
export interface PostgresOptions {
  /** Connections of the pool, count (default {@link DEFAULT_POOL_SIZE}). */
  readonly poolSize?: number;
}

const KEEP_VERSION = `INSERT INTO server_versions (httpdid, version, source, language, limits, expose_errors, vars, egress, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (httpdid, version) DO UPDATE SET source = excluded.source, language = excluded.language, limits = excluded.limits, expose_errors = excluded.expose_errors,
  vars = excluded.vars, egress = excluded.egress, created_at = excluded.created_at`;

/**
 * The PostgreSQL registry. Every method's statement or transaction is committed before its
 * promise resolves (PostgreSQL's default `synchronous_commit`: the WAL is flushed at each commit),
 * so an acknowledged write survives a crash of this node or of the database server. Several
 * nodes share one database: httpdids come from a sequence, names are unique by an index, and the
 * read-then-write methods run SERIALIZABLE. A call that cannot reach the database rejects with
 * IsoError ISO_ERR_API_REGISTRY_UNAVAILABLE (503); the pool connects again by itself once it is back.
 */
export class PostgresRegistry implements Registry {
  readonly #pool: pg.Pool;
  #closed = false;
  /** The schema version (the last migration of migrations/postgres/ applied). */
  readonly schemaVersion: number;

  private constructor(pool: pg.Pool, schemaVersion: number) {
    this.#pool = pool;
    this.schemaVersion = schemaVersion;
  }

  /**
   * Connects to `url` (`postgres://user:password@host:port/database`), applies pending migrations
   * and resolves once the registry is usable. Rejects (ISO_ERR_API_REGISTRY_UNAVAILABLE when it
   * cannot be reached) with nothing left open.
   */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresRegistry> {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? DEFAULT_POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // An idle connection the server closed (a restart, an administrator) is dropped by the pool;
    // the next call connects again. Without a listener the event would end the process.
    pool.on('error', () => undefined);
    try {
      return new PostgresRegistry(pool, await migrate(pool));
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw translate(err);
    }
  }

  /** The connection pool (cluster mode's statements share it: src/api/cluster/cluster-store.ts). */
  get pool(): pg.Pool {
    return this.#pool;
  }

  /** Runs one statement on any pooled connection (autocommit: committed when it resolves). */
  #query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    return query<R>(this.#pool, text, values);
  }

  /**
   * Runs `fn` in one transaction at `isolation`, committed before it resolves; rolled back on a
   * throw. A serialization failure or deadlock (only SERIALIZABLE ones, in practice) runs it again,
   * after a short random pause, up to {@link MAX_ATTEMPTS} times. Anything else `fn` throws (an
   * admission's IsoError) is not retried and rejects as it is (`translate` leaves an IsoError alone).
   */
  async #transaction<T>(isolation: 'READ COMMITTED' | 'SERIALIZABLE', fn: (c: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await inTransaction(this.#pool, isolation, fn);
      } catch (err) {
        if (!isRetryable(err) || attempt >= MAX_ATTEMPTS) throw translate(err);
      }
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
  }

  /** The next httpdid from the sequence `httpdid_sequence`: atomic across connections and nodes, never rolled back, so never handed out twice. */
  async nextHttpdid(): Promise<number> {
    const r = await this.#query<{ id: number }>("SELECT nextval('httpdid_sequence')::integer AS id");
    const id = r.rows[0]?.id;
    if (id === undefined) throw new Error('nextval returned no row');
    return id;
  }

  /**
   * Stores a new server (version 1) if its tenant exists or no tenant exists at all, in one
   * SERIALIZABLE transaction. Why SERIALIZABLE and not row locks: "no tenant exists at all" is a
   * predicate over the whole table, which a row lock cannot hold; PostgreSQL's serializable
   * snapshot isolation sees that this transaction read `tenants` and wrote `servers` while a
   * racing {@link removeTenant} read `servers` and wrote `tenants`, and aborts one of them (40001,
   * run again here), so the outcome is one of the two orders: never a server without its tenant.
   * With `admit`, the same transaction reads the admission state first (servers on the address,
   * the tenant's servers): two nodes inserting on one address or for one tenant each read what the
   * other writes, SSI aborts one, and its run again sees the other's row, so `admit` holds cluster-wide.
   * @returns whether it was stored.
   * Rejects with IsoError ISO_ERR_API_NAME_TAKEN for a name the tenant has already (the unique index `servers_tenant_name`).
   */
  async insertServer(row: NewServerRow, admit?: Admission): Promise<boolean> {
    const language = row.language ?? 'javascript';
    const limits = JSON.stringify(row.limits);
    const vars = JSON.stringify(row.vars ?? {});
    const hostnames = JSON.stringify(row.hostnames ?? []);
    const egress = row.egress === undefined || row.egress === null ? null : JSON.stringify(row.egress);
    try {
      return await this.#transaction('SERIALIZABLE', async (c) => {
        if (admit !== undefined) admit(await readAdmission(c, row.host, row.port, row.tenant, row.httpdid));
        const stored = await c.query(
          `INSERT INTO servers (httpdid, tenant, name, host, port, hostnames, source, language, limits, expose_errors, vars, egress, replicas, state, reason, version, created_at, updated_at)
      SELECT $1, $2::text, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $16
      WHERE EXISTS (SELECT 1 FROM tenants WHERE name = $2::text) OR NOT EXISTS (SELECT 1 FROM tenants)`,
          [
            row.httpdid,
            row.tenant,
            row.name ?? null,
            row.host,
            row.port,
            hostnames,
            row.source,
            language,
            limits,
            row.exposeErrors,
            vars,
            egress,
            row.replicas,
            row.state,
            row.reason ?? null,
            row.createdAt,
          ],
        );
        if (stored.rowCount !== 1) return false;
        await c.query(KEEP_VERSION, [row.httpdid, 1, row.source, language, limits, row.exposeErrors, vars, egress, row.createdAt]);
        return true;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'servers_tenant_name')) throw new IsoError('ISO_ERR_API_NAME_TAKEN', `tenant ${JSON.stringify(row.tenant)} has a server named ${JSON.stringify(row.name)} already`);
      throw err;
    }
  }

  /**
   * Records a redeploy and keeps its version (dropping the oldest beyond `keepVersions`), in one
   * transaction: READ COMMITTED, or with `admit` SERIALIZABLE (as {@link insertServer}), the
   * admission state read and `admit` called before the update.
   * @returns the updated row, or undefined for a missing server.
   */
  async updateServer(httpdid: number, change: ServerChange, admit?: Admission): Promise<ServerRow | undefined> {
    return this.#transaction(admit === undefined ? 'READ COMMITTED' : 'SERIALIZABLE', async (c) => {
      if (admit !== undefined) {
        const state = await readAdmissionOf(c, httpdid);
        if (state === undefined) return undefined;
        admit(state);
      }
      const r = await c.query<RawServer>(
        `UPDATE servers SET source = coalesce($1::text, source), language = coalesce($2::text, language), limits = coalesce($3::text, limits),
      expose_errors = coalesce($4::boolean, expose_errors), vars = coalesce($5::text, vars), egress = CASE WHEN $6::boolean THEN $7::text ELSE egress END,
      version = $8, updated_at = $9 WHERE httpdid = $10 RETURNING *`,
        [
          change.source ?? null,
          change.language ?? null,
          change.limits === undefined ? null : JSON.stringify(change.limits),
          change.exposeErrors ?? null,
          change.vars === undefined ? null : JSON.stringify(change.vars),
          change.egress !== undefined,
          change.egress === undefined || change.egress === null ? null : JSON.stringify(change.egress),
          change.version,
          new Date().toISOString(),
          httpdid,
        ],
      );
      const raw = r.rows[0];
      if (raw === undefined) return undefined;
      await c.query(KEEP_VERSION, [httpdid, raw.version, raw.source, raw.language, raw.limits, raw.expose_errors, raw.vars, raw.egress, raw.updated_at]);
      if (change.keepVersions !== undefined) await c.query('DELETE FROM server_versions WHERE httpdid = $1 AND version <= $2', [httpdid, raw.version - change.keepVersions]);
      return toServer(raw);
    });
  }

  /** The kept versions of a server, newest first. */
  async versions(httpdid: number): Promise<VersionRow[]> {
    return (await this.#query<RawVersion>('SELECT * FROM server_versions WHERE httpdid = $1 ORDER BY version DESC', [httpdid])).rows.map(toVersion);
  }

  /** A server's secrets, by name. */
  async secrets(httpdid: number): Promise<SecretRow[]> {
    const r = await this.#query<{ name: string; sealed: string; updated_at: string }>('SELECT name, sealed, updated_at FROM server_secrets WHERE httpdid = $1 ORDER BY name COLLATE "C"', [httpdid]);
    return r.rows.map((s) => ({ name: s.name, sealed: s.sealed, updatedAt: s.updated_at }));
  }

  /** Writes one secret; the foreign key to `servers` refuses one of a missing server (23503). @returns its updatedAt, or undefined for a missing server. */
  async putSecret(httpdid: number, name: string, sealed: string): Promise<string | undefined> {
    const now = new Date().toISOString();
    try {
      await this.#query(
        `INSERT INTO server_secrets (httpdid, name, sealed, updated_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (httpdid, name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
        [httpdid, name, sealed, now],
      );
      return now;
    } catch (err) {
      if (sqlState(err) === '23503') return undefined;
      throw err;
    }
  }

  /** Deletes one secret of a server. @returns whether it existed. */
  async deleteSecret(httpdid: number, name: string): Promise<boolean> {
    return (await this.#query('DELETE FROM server_secrets WHERE httpdid = $1 AND name = $2', [httpdid, name])).rowCount === 1;
  }

  /** Records a server's state (and why it failed). */
  async setServerState(httpdid: number, state: 'running' | 'failed', reason: string | null): Promise<void> {
    await this.#query('UPDATE servers SET state = $1, reason = $2, updated_at = $3 WHERE httpdid = $4', [state, reason, new Date().toISOString(), httpdid]);
  }

  /** Deletes a server; its versions and secrets go with it (ON DELETE CASCADE). @returns whether it existed. */
  async deleteServer(httpdid: number): Promise<boolean> {
    return (await this.#query('DELETE FROM servers WHERE httpdid = $1', [httpdid])).rowCount === 1;
  }

  /** Every stored server (all tenants), in httpdid order. */
  async servers(): Promise<ServerRow[]> {
    return (await this.#query<RawServer>('SELECT * FROM servers ORDER BY httpdid')).rows.map(toServer);
  }

  /** One tenant's servers, in httpdid order. */
  async serversOf(tenant: string): Promise<ServerRow[]> {
    return (await this.#query<RawServer>('SELECT * FROM servers WHERE tenant = $1 ORDER BY httpdid', [tenant])).rows.map(toServer);
  }

  /** Adds a tenant with a new random token, of which only the SHA-256 is stored. @returns the token. Rejects with an Error if the name is invalid or taken. */
  async addTenant(name: string, quotas: QuotaOverrides = {}): Promise<string> {
    if (!TENANT_NAME.test(name)) throw new Error(invalidTenantName(name));
    const token = newToken();
    try {
      await this.#query('INSERT INTO tenants (name, token_hash, created_at, max_servers, max_source_bytes, memory_mb) VALUES ($1, $2, $3, $4, $5, $6)', [
        name,
        hashToken(token),
        new Date().toISOString(),
        quotas.maxServers ?? null,
        quotas.maxSourceBytes ?? null,
        quotas.memoryMb ?? null,
      ]);
    } catch (err) {
      if (isUniqueViolation(err, 'tenants_pkey')) throw new Error(`tenant ${JSON.stringify(name)} already exists`);
      throw err;
    }
    return token;
  }

  /** Every tenant, by name (bytewise, as SQLite orders them). */
  async tenants(): Promise<TenantRow[]> {
    return (await this.#query<RawTenant>('SELECT * FROM tenants ORDER BY name COLLATE "C"')).rows.map(toTenant);
  }

  /** One tenant, or undefined. */
  async tenant(name: string): Promise<TenantRow | undefined> {
    const raw = (await this.#query<RawTenant>('SELECT * FROM tenants WHERE name = $1', [name])).rows[0];
    return raw === undefined ? undefined : toTenant(raw);
  }

  /** The tenant a token belongs to (looked up by its hash), or undefined. */
  async tenantByToken(token: string): Promise<TenantRow | undefined> {
    const raw = (await this.#query<RawTenant>('SELECT * FROM tenants WHERE token_hash = $1', [hashToken(token)])).rows[0];
    return raw === undefined ? undefined : toTenant(raw);
  }

  /** Whether any tenant exists. */
  async hasTenants(): Promise<boolean> {
    return (await this.#query('SELECT 1 FROM tenants LIMIT 1')).rowCount === 1;
  }

  /** Removes a tenant unless it has servers, in one SERIALIZABLE transaction (see {@link insertServer} for the race it excludes). */
  async removeTenant(name: string): Promise<RemoveTenantResult> {
    return this.#transaction('SERIALIZABLE', async (c): Promise<RemoveTenantResult> => {
      const servers = (await c.query<{ httpdid: number }>('SELECT httpdid FROM servers WHERE tenant = $1 ORDER BY httpdid', [name])).rows.map((r) => r.httpdid);
      if (servers.length > 0) return { removed: false, servers };
      const deleted = await c.query('DELETE FROM tenants WHERE name = $1', [name]);
      return deleted.rowCount === 1 ? { removed: true } : { removed: false, missing: true };
    });
  }

  /** Closes the pool's connections (again: nothing). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
