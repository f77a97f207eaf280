// The PostgreSQL registry's plumbing: which pg errors mean "the database cannot be reached" (ISO_ERR_API_REGISTRY_UNAVAILABLE), which ask for a retry, and the migrations of migrations/postgres/ applied once under an advisory lock.

import { readdirSync, readFileSync } from 'node:fs';
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { IsoError } from '../../core/errors.js';

const MIGRATIONS_DIR = new URL('../../../migrations/postgres/', import.meta.url);
/** The key of the advisory lock the migrations run under (any constant shared by every node: "isohttpd" in ASCII). */
const MIGRATION_LOCK_KEY = 0x69736f68747470;

/** Node's socket errors that mean the server is not (or no longer) reachable. */
const NETWORK_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
/**
 * SQLSTATEs that mean the server cannot serve now: class 08 (connection exception), 57P01-57P03
 * (shut down by an administrator, crash shutdown, cannot connect now: starting or stopping),
 * 53300 (too many connections).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
/** What pg itself says when a connection broke or could not be made in time. */
const PG_CONNECTION_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable/;

/** Whether `err` (from pg or its socket) means the database cannot be reached, rather than a refused statement. */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_ERRNOS.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  if (err instanceof AggregateError) return err.errors.some(isUnavailable);
  return PG_CONNECTION_MESSAGE.test(err.message);
}

/** `err` as the API should see it: ISO_ERR_API_REGISTRY_UNAVAILABLE (503) when the database cannot be reached, else itself. */
export function translate(err: unknown): unknown {
  if (err instanceof IsoError || !isUnavailable(err)) return err;
  return new IsoError('ISO_ERR_API_REGISTRY_UNAVAILABLE', `the registry database cannot be reached (${(err as Error).message || (err as { code?: string }).code}); retry later`);
}

/** The SQLSTATE of a pg error, or undefined. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Whether a transaction failed only because of a concurrent one and should be run again: serialization failure (40001) or deadlock (40P01). */
export function isRetryable(err: unknown): boolean {
  const state = sqlState(err);
  return state === '40001' || state === '40P01';
}

/** Whether `err` is a unique violation (23505) of the constraint or index `name`. */
export function isUniqueViolation(err: unknown, name: string): boolean {
  return sqlState(err) === '23505' && (err as { constraint?: unknown }).constraint === name;
}

/** Runs one statement on any connection of `pool` (autocommit: committed when it resolves). @throws IsoError ISO_ERR_API_REGISTRY_UNAVAILABLE when the database cannot be reached, else what PostgreSQL refused */
export async function query<R extends QueryResultRow>(pool: Pool, text: string, values: unknown[] = []): Promise<QueryResult<R>> {
  try {
    return await pool.query<R>(text, values);
  } catch (err) {
    throw translate(err);
  }
}

/** A connection of `pool`. @throws IsoError ISO_ERR_API_REGISTRY_UNAVAILABLE when it cannot be had (the database unreachable, the pool's wait over) */
export async function connect(pool: Pool): Promise<PoolClient> {
  try {
    return await pool.connect();
  } catch (err) {
    throw translate(err);
  }
}

/**
 * Runs `fn` in one transaction at `isolation` on a connection of `pool`, committed before it
 * resolves; rolled back on a throw, which is rethrown as it is (the caller decides on a retry and
 * translates). A connection whose ROLLBACK failed is not given back to the pool: it is closed.
 */
export async function inTransaction<T>(pool: Pool, isolation: 'READ COMMITTED' | 'SERIALIZABLE', fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const client = await connect(pool);
  let broken: Error | undefined;
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: unknown) => {
      broken = e instanceof Error ? e : new Error(String(e));
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * Applies every `migrations/postgres/NNN-*.sql` not yet in `schema_migrations`, all in one
 * transaction under `pg_advisory_xact_lock`: nodes starting at once wait for each other, and the
 * second one finds the work done, so each migration runs exactly once. Nothing is applied if one fails.
 * @returns the schema version (the last migration applied).
 */
export async function migrate(pool: Pool): Promise<number> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}-[\w-]+\.sql$/.test(f))
    .sort();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const file of files) {
        const version = Number(file.slice(0, 3));
        if (done.has(version)) continue;
        await client.query(readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8'));
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [version, file]);
      }
      const last = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
      await client.query('COMMIT');
      return last.rows[0]?.version ?? 0;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
}
