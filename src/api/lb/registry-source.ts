// Cluster mode's view for the balancer, read straight from the shared PostgreSQL registry (the operator's view: every tenant's servers): the public addresses of the servers not failed and the nodes that have not left, read-only, on one pg.Client.

import pg from 'pg';
import { isUnavailable, sqlState } from '../registry/postgres-support.js';
import type { LbConnectNode, LbServer } from './haproxy-config.js';

/** The distinct public addresses of the servers not failed (migrations/postgres/001-initial.sql): a failed server is served by no node. */
export const ADDRESSES_SQL = `SELECT host, port FROM servers WHERE state <> 'failed' GROUP BY host, port ORDER BY host COLLATE "C", port`;
/**
 * Every node that has not left (migrations/postgres/003-cluster.sql: a graceful stop sets
 * last_seen to '-infinity'). Nodes whose lease expired stay: a node that stops heartbeating may
 * come back, and the balancer's checks, not the lease, say whether it serves.
 */
export const NODES_SQL = `SELECT name, address FROM cluster_nodes WHERE last_seen <> '-infinity' ORDER BY name COLLATE "C"`;

/** How long connecting, and each statement, may take before the read fails, ms. */
const CONNECT_TIMEOUT_MS = 5000;
const STATEMENT_TIMEOUT_MS = 10_000;

/** Why a read failed: `unreachable` (the server, the network, or the database named), `unauthorized` (its authentication refused us), `failed` (anything else: no cluster tables, …). */
export type RegistryReadFailure = 'unreachable' | 'unauthorized' | 'failed';

/** A read of the registry that failed. */
export class RegistryReadError extends Error {
  readonly kind: RegistryReadFailure;

  constructor(kind: RegistryReadFailure, message: string) {
    super(message);
    this.name = 'RegistryReadError';
    this.kind = kind;
  }
}

/** What one read found. */
export interface RegistryView {
  readonly servers: LbServer[];
  readonly nodes: LbConnectNode[];
}

/** `postgres://user@host:port/database`: the URL without its password or parameters (which may carry one), for messages and the configuration's header. */
export function registryOrigin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username === '' ? '' : `${u.username}@`}${u.host}${u.pathname}`;
  } catch {
    return 'the registry';
  }
}

/** A pg or socket error in one line (a refused connection to several addresses is an AggregateError with no message of its own). */
function describe(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') return err.errors.map(describe).join('; ');
  if (err instanceof Error) return err.message || String((err as { code?: unknown }).code ?? err.name);
  return String(err);
}

/** The failure `err` is. */
function classify(err: unknown, origin: string): RegistryReadError {
  const state = sqlState(err);
  // 3D000: the database the URL names does not exist there; 28xxx: authentication refused.
  const kind: RegistryReadFailure = isUnavailable(err) || state === '3D000' ? 'unreachable' : state?.startsWith('28') ? 'unauthorized' : 'failed';
  const what = kind === 'unreachable' ? 'cannot be reached' : kind === 'unauthorized' ? 'refused the connection' : 'could not be read';
  const hint = state === '42P01' ? ' (no cluster tables: is it the registry of isohttpd nodes, started at least once?)' : '';
  return new RegistryReadError(kind, `the registry ${origin} ${what}: ${describe(err)}${hint}`);
}

/**
 * Reads the registry, one connection kept between reads (a watch reads every few hundred ms);
 * a read that fails drops it and the next one connects again. Each read is one READ ONLY
 * transaction (REPEATABLE READ: the addresses and the nodes of one snapshot).
 */
export class RegistryReader {
  readonly #url: string;
  readonly origin: string;
  #client: pg.Client | null = null;

  constructor(url: string) {
    this.#url = url;
    this.origin = registryOrigin(url);
  }

  async #connect(): Promise<pg.Client> {
    if (this.#client !== null) return this.#client;
    const c = new pg.Client({
      connectionString: this.#url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      application_name: 'isohttpd lb haproxy',
      keepAlive: true,
    });
    // A connection the server closes between reads (a restart): dropped, the next read connects again. Without a listener the event would end the process.
    c.on('error', () => {
      if (this.#client === c) this.#client = null;
      c.end().catch(() => undefined);
    });
    try {
      await c.connect();
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    this.#client = c;
    return c;
  }

  /** The addresses and nodes now. @throws RegistryReadError */
  async read(): Promise<RegistryView> {
    let c: pg.Client | undefined;
    try {
      c = await this.#connect();
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const addresses = await c.query<{ host: string; port: number }>(ADDRESSES_SQL);
      const nodes = await c.query<{ name: string; address: string }>(NODES_SQL);
      await c.query('COMMIT');
      return {
        servers: addresses.rows.map((r) => ({ host: r.host, port: r.port, state: 'running' })),
        nodes: nodes.rows.map((r) => ({ name: r.name, address: r.address, check: 'connect' })),
      };
    } catch (err) {
      // Whatever failed (the connection, or a statement inside the transaction): start afresh next time.
      if (c !== undefined && this.#client === c) this.#client = null;
      await c?.end().catch(() => undefined);
      throw classify(err, this.origin);
    }
  }

  /** Closes the connection (a read after it connects again). */
  async close(): Promise<void> {
    const c = this.#client;
    this.#client = null;
    await c?.end().catch(() => undefined);
  }
}
