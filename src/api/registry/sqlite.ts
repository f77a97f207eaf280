// The SQLite registry (the Registry of ./registry.ts): tenants, servers and the httpdid sequence in the data dir, with the schema migrations in migrations/.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { type Limits, resolveLimits } from '../../core/limits.js';
import { IsoError } from '../../core/errors.js';
import type { Language } from '../../core/language.js';
import type { EgressPolicy } from '../../host/worker/protocol.js';
import { type AddressRow, admissionSql, type TenantServerRow, toAdmissionState } from './admission.js';
import type { Admission, AdmissionState, NewServerRow, QuotaOverrides, Registry, RemoveTenantResult, SecretRow, ServerChange, ServerRow, TenantRow, VersionRow } from './registry.js';
import { hashToken, TENANT_NAME } from './tenant-tokens.js';

/** The database file inside the data dir. */
export const DB_FILE = 'isohttpd.sqlite';
const MIGRATIONS_DIR = new URL('../../../migrations/', import.meta.url);
/** The sequence file of earlier versions, migrated (then renamed `.migrated`) on open. */
const LEGACY_SEQUENCE_FILE = 'httpdid-sequence.json';

interface RawServer {
  httpdid: number;
  tenant: string;
  name: string | null;
  host: string;
  port: number;
  source: string;
  language: Language;
  limits: string;
  expose_errors: number;
  vars: string;
  hostnames: string;
  egress: string | null;
  replicas: number;
  state: 'running' | 'failed';
  reason: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}
interface RawVersion {
  httpdid: number;
  version: number;
  source: string;
  language: Language;
  limits: string;
  expose_errors: number;
  vars: string;
  egress: string | null;
  created_at: string;
}
interface RawTenant {
  name: string;
  created_at: string;
  max_servers: number | null;
  max_source_bytes: number | null;
  memory_mb: number | null;
}

const toServer = (r: RawServer): ServerRow => ({
  httpdid: r.httpdid,
  tenant: r.tenant,
  name: r.name,
  host: r.host,
  port: r.port,
  hostnames: Object.freeze(JSON.parse(r.hostnames) as string[]),
  source: r.source,
  language: r.language,
  // A row stored before a limit existed gets its default.
  limits: resolveLimits(JSON.parse(r.limits) as Partial<Limits>),
  exposeErrors: r.expose_errors === 1,
  vars: JSON.parse(r.vars) as Record<string, string>,
  egress: r.egress === null ? null : (JSON.parse(r.egress) as EgressPolicy),
  replicas: r.replicas,
  state: r.state,
  reason: r.reason,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toVersion = (r: RawVersion): VersionRow => ({
  httpdid: r.httpdid,
  version: r.version,
  source: r.source,
  language: r.language,
  limits: resolveLimits(JSON.parse(r.limits) as Partial<Limits>),
  exposeErrors: r.expose_errors === 1,
  vars: JSON.parse(r.vars) as Record<string, string>,
  egress: r.egress === null ? null : (JSON.parse(r.egress) as EgressPolicy),
  createdAt: r.created_at,
});

const toTenant = (r: RawTenant): TenantRow => {
  const quotas: QuotaOverrides = {};
  if (r.max_servers !== null) quotas.maxServers = r.max_servers;
  if (r.max_source_bytes !== null) quotas.maxSourceBytes = r.max_source_bytes;
  if (r.memory_mb !== null) quotas.memoryMb = r.memory_mb;
  return { name: r.name, createdAt: r.created_at, quotas };
};

export { hashToken, TENANT_NAME } from './tenant-tokens.js';

/** The admission's statements with SQLite's placeholders. */
const ADMISSION_SQL = admissionSql(() => '?');

/** How long a writer waits for another process's lock before failing, ms. */
const BUSY_TIMEOUT_MS = 5000;
/** SQLite's extended result code for a PRIMARY KEY violation (`SQLITE_CONSTRAINT_PRIMARYKEY`). */
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;

/** Whether a node:sqlite error is the unique index on (tenant, name) refusing a second server of one name. */
function isNameConflict(err: unknown): boolean {
  return err instanceof Error && /UNIQUE constraint failed: servers\.tenant, servers\.name/.test(err.message);
}

/**
 * Runs `fn` now, synchronously, and hands its result (or its throw) over as a promise. Every
 * method of {@link SqliteRegistry} does its whole statement or transaction this way before it
 * returns, so two transactions never interleave on the one connection however callers await.
 */
function settled<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * The SQLite registry, on Node's built-in `node:sqlite`. Every write is one transaction, committed
 * (WAL, `synchronous=FULL`: the WAL is fsynced at each commit) before the method returns, so an
 * acknowledged write survives a crash of the process or the machine. Several processes may open
 * it at once (the service and `isohttpd tenant …`); a writer waits up to 5 s for another's lock.
 * `DatabaseSync` underneath: each method does its work synchronously, then resolves.
 */
export class SqliteRegistry implements Registry {
  readonly #db: DatabaseSync;
  /** Statements of the per-request path, prepared once. */
  #byToken: StatementSync | undefined;
  #anyTenant: StatementSync | undefined;

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Opens (creating if needed) the registry in `dataDir` and applies pending migrations. */
  static open(dataDir: string): SqliteRegistry {
    mkdirSync(dataDir, { recursive: true });
    // `timeout` is SQLite's busy timeout: node:sqlite's default is 0 (fail at once on a lock).
    const db = new DatabaseSync(path.join(dataDir, DB_FILE), { timeout: BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    const reg = new SqliteRegistry(db);
    reg.#migrate();
    reg.#importLegacySequence(dataDir);
    return reg;
  }

  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction (the write lock taken at the start, so a
   * read-then-write cannot be overtaken by another process); commits on return, rolls back on a throw.
   */
  #immediate<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  #userVersion(): number {
    const row = this.#db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined;
    return row?.user_version ?? 0;
  }

  /** Applies every `migrations/NNN-*.sql` above `PRAGMA user_version`, each in its own transaction. */
  #migrate(): void {
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{3}-[\w-]+\.sql$/.test(f))
      .sort();
    for (const file of files) {
      const version = Number(file.slice(0, 3));
      this.#immediate(() => {
        // Re-read inside the (immediate) transaction: another process may have migrated meanwhile.
        if (this.#userVersion() >= version) return;
        this.#db.exec(readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8'));
        this.#db.exec(`PRAGMA user_version = ${version}`);
      });
    }
  }

  /** The schema version (the last migration applied). */
  get schemaVersion(): number {
    return this.#userVersion();
  }

  #importLegacySequence(dataDir: string): void {
    const file = path.join(dataDir, LEGACY_SEQUENCE_FILE);
    if (!existsSync(file)) return;
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { last?: unknown };
    if (typeof parsed.last !== 'number' || !Number.isSafeInteger(parsed.last) || parsed.last < 0) {
      throw new Error(`${file} is corrupt: "last" must be a non-negative integer`);
    }
    this.#db.prepare('UPDATE httpdid_sequence SET last = max(last, ?) WHERE id = 1').run(parsed.last);
    renameSync(file, `${file}.migrated`);
  }

  /** The next httpdid, committed before it resolves: never handed out twice in this data dir. */
  nextHttpdid(): Promise<number> {
    return settled(() => {
      const row = this.#db.prepare('UPDATE httpdid_sequence SET last = last + 1 WHERE id = 1 RETURNING last').get() as { last: number };
      return row.last;
    });
  }

  /**
   * Stores a new server (version 1); committed on return. The row is written only if its tenant
   * still exists, or if no tenant exists at all (the open default tenant), in the same statement,
   * so a `tenant rm` that raced the creation never leaves a server without a tenant. With `admit`,
   * its state is read and `admit` called in the same `BEGIN IMMEDIATE` transaction, before the
   * insert: the write lock is held from the start, so no other process's insert comes between.
   * @returns whether it was stored.
   */
  insertServer(row: NewServerRow, admit?: Admission): Promise<boolean> {
    const language = row.language ?? 'javascript';
    const limits = JSON.stringify(row.limits);
    const exposeErrors = row.exposeErrors ? 1 : 0;
    const vars = JSON.stringify(row.vars ?? {});
    const hostnames = JSON.stringify(row.hostnames ?? []);
    const egress = row.egress === undefined || row.egress === null ? null : JSON.stringify(row.egress);
    return settled(() => {
      try {
        return this.#immediate(() => {
          if (admit !== undefined) admit(this.#admission(row.host, row.port, row.tenant, row.httpdid));
          const stored =
            this.#db
              .prepare(`INSERT INTO servers (httpdid, tenant, name, host, port, hostnames, source, language, limits, expose_errors, vars, egress, replicas, state, reason, version, created_at, updated_at)
      SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?
      WHERE EXISTS (SELECT 1 FROM tenants WHERE name = ?) OR NOT EXISTS (SELECT 1 FROM tenants)`)
              .run(
                row.httpdid,
                row.tenant,
                row.name ?? null,
                row.host,
                row.port,
                hostnames,
                row.source,
                language,
                limits,
                exposeErrors,
                vars,
                egress,
                row.replicas,
                row.state,
                row.reason ?? null,
                row.createdAt,
                row.createdAt,
                row.tenant,
              ).changes > 0;
          if (stored) this.#keepVersion({ httpdid: row.httpdid, version: 1, source: row.source, language, limits, expose_errors: exposeErrors, vars, egress, created_at: row.createdAt });
          return stored;
        });
      } catch (err) {
        if (isNameConflict(err)) throw new IsoError('ISO_ERR_API_NAME_TAKEN', `tenant ${JSON.stringify(row.tenant)} has a server named ${JSON.stringify(row.name)} already`);
        throw err;
      }
    });
  }

  /**
   * Records a redeploy: the new source, limits and/or exposeErrors and the new version; committed on return.
   * With `admit`, the stored server's admission state is read and `admit` called first, in the same transaction.
   * @returns the updated row, or undefined if there is no such server.
   */
  updateServer(httpdid: number, change: ServerChange, admit?: Admission): Promise<ServerRow | undefined> {
    return settled(() =>
      this.#immediate(() => {
        if (admit !== undefined) {
          const stored = this.#db.prepare('SELECT host, port, tenant FROM servers WHERE httpdid = ?').get(httpdid) as { host: string; port: number; tenant: string } | undefined;
          if (stored === undefined) return undefined;
          admit(this.#admission(stored.host, stored.port, stored.tenant, httpdid));
        }
        const raw = this.#db
          .prepare(`UPDATE servers SET source = coalesce(?, source), language = coalesce(?, language), limits = coalesce(?, limits), expose_errors = coalesce(?, expose_errors), vars = coalesce(?, vars), egress = CASE WHEN ? THEN ? ELSE egress END, version = ?, updated_at = ?
      WHERE httpdid = ? RETURNING *`)
          .get(
            change.source ?? null,
            change.language ?? null,
            change.limits === undefined ? null : JSON.stringify(change.limits),
            change.exposeErrors === undefined ? null : change.exposeErrors ? 1 : 0,
            change.vars === undefined ? null : JSON.stringify(change.vars),
            change.egress === undefined ? 0 : 1,
            change.egress === undefined || change.egress === null ? null : JSON.stringify(change.egress),
            change.version,
            new Date().toISOString(),
            httpdid,
          ) as RawServer | undefined;
        if (raw === undefined) return undefined;
        this.#keepVersion({
          httpdid,
          version: raw.version,
          source: raw.source,
          language: raw.language,
          limits: raw.limits,
          expose_errors: raw.expose_errors,
          vars: raw.vars,
          egress: raw.egress,
          created_at: raw.updated_at,
        });
        if (change.keepVersions !== undefined) this.#db.prepare('DELETE FROM server_versions WHERE httpdid = ? AND version <= ?').run(httpdid, raw.version - change.keepVersions);
        return toServer(raw);
      }),
    );
  }

  /** What an admission of server `httpdid` on (host, port) of `tenant` sees (inside the caller's transaction). */
  #admission(host: string, port: number, tenant: string, httpdid: number): AdmissionState {
    const address = this.#db.prepare(ADMISSION_SQL.address).all(host, port, httpdid) as unknown as AddressRow[];
    const servers = this.#db.prepare(ADMISSION_SQL.tenant).all(tenant, httpdid) as unknown as TenantServerRow[];
    return toAdmissionState(address, servers);
  }

  /** Records one version of a server among its kept ones (inside the caller's transaction). */
  #keepVersion(v: RawVersion): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO server_versions (httpdid, version, source, language, limits, expose_errors, vars, egress, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(v.httpdid, v.version, v.source, v.language, v.limits, v.expose_errors, v.vars, v.egress, v.created_at);
  }

  /** The kept versions of a server, newest first. */
  versions(httpdid: number): Promise<VersionRow[]> {
    return settled(() => (this.#db.prepare('SELECT * FROM server_versions WHERE httpdid = ? ORDER BY version DESC').all(httpdid) as unknown as RawVersion[]).map(toVersion));
  }

  /** A server's secrets, by name. */
  secrets(httpdid: number): Promise<SecretRow[]> {
    return settled(() =>
      (this.#db.prepare('SELECT name, sealed, updated_at FROM server_secrets WHERE httpdid = ? ORDER BY name').all(httpdid) as Array<{ name: string; sealed: string; updated_at: string }>).map(
        (r) => ({
          name: r.name,
          sealed: r.sealed,
          updatedAt: r.updated_at,
        }),
      ),
    );
  }

  /** Writes one secret of a server if the server exists, in one statement; committed on return. @returns its updatedAt, or undefined for a missing server. */
  putSecret(httpdid: number, name: string, sealed: string): Promise<string | undefined> {
    const now = new Date().toISOString();
    return settled(() => {
      const changes = this.#db
        .prepare(`INSERT INTO server_secrets (httpdid, name, sealed, updated_at) SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM servers WHERE httpdid = ?)
      ON CONFLICT (httpdid, name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`)
        .run(httpdid, name, sealed, now, httpdid).changes;
      return changes > 0 ? now : undefined;
    });
  }

  /** Deletes one secret of a server; committed on return. @returns whether it existed. */
  deleteSecret(httpdid: number, name: string): Promise<boolean> {
    return settled(() => this.#db.prepare('DELETE FROM server_secrets WHERE httpdid = ? AND name = ?').run(httpdid, name).changes > 0);
  }

  /** Records a server's state (and why it failed); committed on return. */
  setServerState(httpdid: number, state: 'running' | 'failed', reason: string | null): Promise<void> {
    return settled(() => {
      this.#db.prepare('UPDATE servers SET state = ?, reason = ?, updated_at = ? WHERE httpdid = ?').run(state, reason, new Date().toISOString(), httpdid);
    });
  }

  /** Deletes a server; committed on return. @returns whether it existed. */
  deleteServer(httpdid: number): Promise<boolean> {
    return settled(() =>
      this.#immediate(() => {
        this.#db.prepare('DELETE FROM server_versions WHERE httpdid = ?').run(httpdid);
        this.#db.prepare('DELETE FROM server_secrets WHERE httpdid = ?').run(httpdid);
        return this.#db.prepare('DELETE FROM servers WHERE httpdid = ?').run(httpdid).changes > 0;
      }),
    );
  }

  /** Every stored server (all tenants), in httpdid order. */
  servers(): Promise<ServerRow[]> {
    return settled(() => (this.#db.prepare('SELECT * FROM servers ORDER BY httpdid').all() as unknown as RawServer[]).map(toServer));
  }

  /** One tenant's servers, in httpdid order. */
  serversOf(tenant: string): Promise<ServerRow[]> {
    return settled(() => (this.#db.prepare('SELECT * FROM servers WHERE tenant = ? ORDER BY httpdid').all(tenant) as unknown as RawServer[]).map(toServer));
  }

  /**
   * Adds a tenant with a new random token (32 bytes, base64url, prefixed `iso_`), of which only
   * the SHA-256 is stored. @returns the token: the only time it is ever available.
   * Rejects with an Error if the name is invalid or taken.
   */
  addTenant(name: string, quotas: QuotaOverrides = {}): Promise<string> {
    return settled(() => {
      if (!TENANT_NAME.test(name)) throw new Error(`invalid tenant name ${JSON.stringify(name)}: 1-63 characters of a-z 0-9 _ . - starting with a letter or digit`);
      const token = `iso_${randomBytes(32).toString('base64url')}`;
      try {
        this.#db
          .prepare('INSERT INTO tenants (name, token_hash, created_at, max_servers, max_source_bytes, memory_mb) VALUES (?, ?, ?, ?, ?, ?)')
          .run(name, hashToken(token), new Date().toISOString(), quotas.maxServers ?? null, quotas.maxSourceBytes ?? null, quotas.memoryMb ?? null);
      } catch (err) {
        if ((err as { errcode?: number }).errcode === SQLITE_CONSTRAINT_PRIMARYKEY) throw new Error(`tenant ${JSON.stringify(name)} already exists`);
        throw err;
      }
      return token;
    });
  }

  /** Every tenant, by name. */
  tenants(): Promise<TenantRow[]> {
    return settled(() => (this.#db.prepare('SELECT * FROM tenants ORDER BY name').all() as unknown as RawTenant[]).map(toTenant));
  }

  /** One tenant, or undefined. */
  tenant(name: string): Promise<TenantRow | undefined> {
    return settled(() => {
      const raw = this.#db.prepare('SELECT * FROM tenants WHERE name = ?').get(name) as RawTenant | undefined;
      return raw === undefined ? undefined : toTenant(raw);
    });
  }

  /** The tenant a token belongs to (looked up by its hash), or undefined. */
  tenantByToken(token: string): Promise<TenantRow | undefined> {
    return settled(() => {
      this.#byToken ??= this.#db.prepare('SELECT * FROM tenants WHERE token_hash = ?');
      const raw = this.#byToken.get(hashToken(token)) as RawTenant | undefined;
      return raw === undefined ? undefined : toTenant(raw);
    });
  }

  /** Whether any tenant exists (none: the open `default` tenant may apply). */
  hasTenants(): Promise<boolean> {
    return settled(() => {
      this.#anyTenant ??= this.#db.prepare('SELECT 1 FROM tenants LIMIT 1');
      return this.#anyTenant.get() !== undefined;
    });
  }

  /**
   * Removes a tenant (its token stops working at once, also in a running service), in one
   * `BEGIN IMMEDIATE` transaction: no server of it can be inserted between the check and the delete.
   * @returns `removed`, `missing`, or the httpdids of its servers (then nothing was removed).
   */
  removeTenant(name: string): Promise<RemoveTenantResult> {
    return settled(() =>
      this.#immediate((): RemoveTenantResult => {
        const servers = (this.#db.prepare('SELECT httpdid FROM servers WHERE tenant = ? ORDER BY httpdid').all(name) as Array<{ httpdid: number }>).map((r) => r.httpdid);
        if (servers.length > 0) return { removed: false, servers };
        const changes = this.#db.prepare('DELETE FROM tenants WHERE name = ?').run(name).changes;
        return changes > 0 ? { removed: true } : { removed: false, missing: true };
      }),
    );
  }

  /** Checkpoints the WAL into the database file and closes it (again: nothing). */
  close(): Promise<void> {
    return settled(() => {
      if (!this.#db.isOpen) return;
      this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      this.#db.close();
    });
  }
}
