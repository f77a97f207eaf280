// The cluster's rows in the shared PostgreSQL registry (migrations/postgres/003-cluster.sql): nodes and their heartbeats, placements, reports, and the notification channel. SQL only: who calls what, when, is in cluster-node.ts and cluster-lifecycle.ts.

import type pg from 'pg';
import { type RawServer, toServer } from '../registry/postgres-rows.js';
import { connect, inTransaction, query, translate } from '../registry/postgres-support.js';
import type { ServerRow } from '../registry/registry.js';

/** The LISTEN/NOTIFY channel of the cluster; payloads carry ids only ({@link ClusterChange}). */
export const CHANNEL = 'isohttpd_cluster';
/** The advisory lock the leader holds on its own connection for as long as it leads ("isohttpd leader" folded to 48 bits). */
export const LEADER_LOCK = 0x69736f6c6561;
/** The first key of the per-server advisory locks (two-key form: this, then the httpdid). */
const SERVER_LOCK_SPACE = 0x69736f73;
/** The advisory lock a placement round takes for its transaction (two leaders for a moment never interleave their rounds). */
export const PLAN_LOCK = 0x69736f706c61;

/**
 * What a notification says: `server:ID` (server ID was created, redeployed, restarted, deleted,
 * or its secrets changed: nodes serving it look again, the leader plans), `placement:ID` (the
 * leader moved it), `nodes` (a node joined or left: the leader plans). Nothing else is ever sent.
 */
export type ClusterChange = { readonly kind: 'server' | 'placement'; readonly httpdid: number } | { readonly kind: 'nodes' };

/** The payload of a change. */
export function encodeChange(c: ClusterChange): string {
  return c.kind === 'nodes' ? 'nodes' : `${c.kind}:${c.httpdid}`;
}

/** A payload read back; undefined for anything else (ignored: a full reconcile repairs whatever it meant). */
export function decodeChange(payload: string): ClusterChange | undefined {
  if (payload === 'nodes') return { kind: 'nodes' };
  const m = /^(server|placement):([1-9][0-9]{0,9})$/.exec(payload);
  return m === null ? undefined : { kind: m[1] as 'server' | 'placement', httpdid: Number(m[2]) };
}

/** A node as the database knows it. */
export interface NodeRow {
  readonly name: string;
  readonly address: string;
  readonly apiUrl: string;
  /** Whether its last heartbeat is within the lease, by the database's clock. */
  readonly live: boolean;
  /** Milliseconds since its last heartbeat, by the database's clock (null once it left). */
  readonly sinceMs: number | null;
}

/** What one node reports of one server. */
export interface ReportRow {
  readonly httpdid: number;
  readonly node: string;
  readonly revision: string;
  readonly state: 'ready' | 'failed';
  readonly reason: string | null;
}

/** The cluster's statements, on the registry's pool (each autocommitted unless said). */
export class ClusterStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  #query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    return query<R>(this.#pool, text, values);
  }

  /** Records a heartbeat of `name` (joining the first time, its address and API updated), stamped with the database's now(). */
  async heartbeat(name: string, address: string, apiUrl: string): Promise<void> {
    await this.#query(
      `INSERT INTO cluster_nodes (name, address, api_url) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET address = excluded.address, api_url = excluded.api_url, last_seen = now()`,
      [name, address, apiUrl],
    );
  }

  /** Marks `name` gone at once (a graceful stop: it is not live any more, whatever the lease). */
  async leave(name: string): Promise<void> {
    await this.#query(`UPDATE cluster_nodes SET last_seen = '-infinity' WHERE name = $1`, [name]);
  }

  /**
   * Every node ever joined, by name, with its liveness under a lease of `leaseMs` (written as
   * `last_seen > now() - lease`: PostgreSQL cannot subtract the '-infinity' of a node that left).
   */
  async nodes(leaseMs: number): Promise<NodeRow[]> {
    const r = await this.#query<{ name: string; address: string; api_url: string; live: boolean; since_ms: number | null }>(
      `SELECT name, address, api_url, last_seen > now() - $1 * interval '1 millisecond' AS live,
        CASE WHEN last_seen = '-infinity' THEN NULL ELSE (extract(epoch FROM now() - last_seen) * 1000)::float8 END AS since_ms
       FROM cluster_nodes ORDER BY name COLLATE "C"`,
      [leaseMs],
    );
    return r.rows.map((n) => ({ name: n.name, address: n.address, apiUrl: n.api_url, live: n.live, sinceMs: n.since_ms === null ? null : Math.round(n.since_ms) }));
  }

  /** One stored server, or undefined. */
  async server(httpdid: number): Promise<ServerRow | undefined> {
    const raw = (await this.#query<RawServer>('SELECT * FROM servers WHERE httpdid = $1', [httpdid])).rows[0];
    return raw === undefined ? undefined : toServer(raw);
  }

  /** The nodes serving server `httpdid` by the leader's last round. */
  async placementsOf(httpdid: number): Promise<string[]> {
    return (await this.#query<{ node: string }>('SELECT node FROM cluster_placements WHERE httpdid = $1 ORDER BY node COLLATE "C"', [httpdid])).rows.map((r) => r.node);
  }

  /** The httpdids placed on `node`. */
  async placedOn(node: string): Promise<number[]> {
    return (await this.#query<{ httpdid: number }>('SELECT httpdid FROM cluster_placements WHERE node = $1 ORDER BY httpdid', [node])).rows.map((r) => r.httpdid);
  }

  /** Every placement, by httpdid. */
  async placements(): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    for (const r of (await this.#query<{ httpdid: number; node: string }>('SELECT httpdid, node FROM cluster_placements ORDER BY httpdid, node COLLATE "C"')).rows)
      out.set(r.httpdid, [...(out.get(r.httpdid) ?? []), r.node]);
    return out;
  }

  /** Records what `node` serves of `httpdid`. */
  async report(httpdid: number, node: string, revision: string, state: 'ready' | 'failed', reason: string | null): Promise<void> {
    await this.#query(
      `INSERT INTO cluster_reports (httpdid, node, revision, state, reason) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (httpdid, node) DO UPDATE SET revision = excluded.revision, state = excluded.state, reason = excluded.reason, updated_at = now()`,
      [httpdid, node, revision, state, reason],
    );
  }

  /** Removes `node`'s report of `httpdid` (it stopped serving it). */
  async unreport(httpdid: number, node: string): Promise<void> {
    await this.#query('DELETE FROM cluster_reports WHERE httpdid = $1 AND node = $2', [httpdid, node]);
  }

  /** Removes every report of `node` (it starts: it serves nothing yet, whatever its last run reported). */
  async clearReports(node: string): Promise<void> {
    await this.#query('DELETE FROM cluster_reports WHERE node = $1', [node]);
  }

  /** The reports on `httpdid`, by node. */
  async reportsOf(httpdid: number): Promise<ReportRow[]> {
    const r = await this.#query<{ httpdid: number; node: string; revision: string; state: 'ready' | 'failed'; reason: string | null }>(
      'SELECT httpdid, node, revision, state, reason FROM cluster_reports WHERE httpdid = $1 ORDER BY node COLLATE "C"',
      [httpdid],
    );
    return r.rows;
  }

  /** Every report, by httpdid. */
  async reports(): Promise<Map<number, ReportRow[]>> {
    const out = new Map<number, ReportRow[]>();
    const r = await this.#query<ReportRow>('SELECT httpdid, node, revision, state, reason FROM cluster_reports ORDER BY httpdid, node COLLATE "C"');
    for (const row of r.rows) out.set(row.httpdid, [...(out.get(row.httpdid) ?? []), row]);
    return out;
  }

  /** Sends a change to every node listening (delivered once the sending statement commits: at once here). */
  async notify(change: ClusterChange): Promise<void> {
    await this.#query('SELECT pg_notify($1, $2)', [CHANNEL, encodeChange(change)]);
  }

  /**
   * Runs `fn` holding the session advisory lock of server `httpdid` (on a pooled connection of its
   * own): the changes of one server run one after the other, whichever nodes take them; a node that
   * dies lets the lock go with its connection.
   */
  async withServerLock<T>(httpdid: number, fn: () => Promise<T>): Promise<T> {
    const client = await connect(this.#pool);
    let broken: Error | undefined;
    try {
      try {
        await client.query('SELECT pg_advisory_lock($1, $2)', [SERVER_LOCK_SPACE, httpdid]);
      } catch (err) {
        broken = err as Error;
        throw translate(err);
      }
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [SERVER_LOCK_SPACE, httpdid]).catch((e: unknown) => {
          broken = e as Error;
        });
      }
    } finally {
      client.release(broken);
    }
  }

  /** Runs `fn` in one transaction on one pooled connection, committed before it resolves. */
  async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await inTransaction(this.#pool, 'READ COMMITTED', fn);
    } catch (err) {
      throw translate(err);
    }
  }
}
