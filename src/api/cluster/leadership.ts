// Leadership: the node holding the PostgreSQL session advisory lock LEADER_LOCK on its own connection leads (plans placements). The lock goes with the connection: a leader that dies, or loses its connection, lets another node take it at its next try; one that hangs (its heartbeats stop, its session stays) is cut off by the next node that finds it out of its lease.

import pg from 'pg';
import type { Log } from '../supervisor/worker-pool.js';
import { LEADER_LOCK } from './cluster-store.js';

/** The `application_name` of a node's leadership connection: how the others find whose session holds the lock. */
const APPLICATION_PREFIX = 'isohttpd leader ';

/**
 * The sessions holding the leader lock whose node is out of its lease (a bigint advisory lock is
 * shown in pg_locks as classid = its high 32 bits, objid = its low 32 bits, objsubid = 1). Only a
 * session named for a known node is ever matched: nothing else is cut off.
 */
const STALE_HOLDER = `SELECT a.pid, n.name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
  JOIN cluster_nodes n ON a.application_name = '${APPLICATION_PREFIX}' || n.name
  WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1
    AND n.last_seen <= now() - $3 * interval '1 millisecond'`;

/** One node's attempt to lead, kept on a dedicated connection (not the pool's: the lock is the session's). */
export class Leadership {
  readonly #url: string;
  readonly #log: Log;
  readonly #name: string;
  readonly #leaseMs: number;
  #client: pg.Client | null = null;
  #leading = false;
  #since = 0;
  #closed = false;

  /** `name`: this node's (its session is named for it); `leaseMs`: a holder out of it is cut off. */
  constructor(url: string, log: Log, name: string, leaseMs: number) {
    this.#url = url;
    this.#log = log;
    this.#name = name;
    this.#leaseMs = leaseMs;
  }

  /** Whether this node held the lock at its last try (and its connection has not broken since). */
  get leading(): boolean {
    return this.#leading;
  }

  /** How long this node has led without a break, ms (0 when it does not lead). */
  get ledForMs(): number {
    return this.#leading ? Date.now() - this.#since : 0;
  }

  /** Tries to take the lock (connecting first if needed). @returns whether this node leads now. Never rejects: an unreachable database means not leading. */
  async tryLead(): Promise<boolean> {
    if (this.#closed) return false;
    if (this.#leading) return true;
    try {
      if (this.#client === null) {
        const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 5000, application_name: `${APPLICATION_PREFIX}${this.#name}`.slice(0, 63) });
        client.on('error', () => this.#lost('its connection broke'));
        client.on('end', () => this.#lost('its connection ended'));
        this.#client = client;
        await client.connect();
      }
      const r = await this.#client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LEADER_LOCK]);
      this.#leading = r.rows[0]?.ok === true;
      if (this.#leading) {
        this.#since = Date.now();
        this.#log.info({}, 'cluster: this node leads (it holds the leader lock)');
      } else await this.#cutOffStaleHolder(this.#client);
      return this.#leading;
    } catch {
      this.#drop();
      return false;
    }
  }

  /**
   * A leader that hangs (stopped, swapping, wedged) keeps its session and so the lock, and nothing
   * would be placed again: the holder's node out of its lease has its session terminated; the lock
   * is free at the next try of any node.
   */
  async #cutOffStaleHolder(client: pg.Client): Promise<void> {
    const hi = Math.floor(LEADER_LOCK / 2 ** 32);
    const lo = LEADER_LOCK % 2 ** 32;
    const stale = await client.query<{ pid: number; name: string }>(STALE_HOLDER, [hi, lo, this.#leaseMs]);
    for (const s of stale.rows) {
      this.#log.warn({ leader: s.name, pid: s.pid }, 'cluster: the leader is out of its lease but holds the leader lock; its session is terminated');
      await client.query('SELECT pg_terminate_backend($1)', [s.pid]);
    }
  }

  #lost(why: string): void {
    if (this.#leading) this.#log.warn({}, `cluster: this node no longer leads: ${why}`);
    this.#drop();
  }

  #drop(): void {
    this.#leading = false;
    const c = this.#client;
    this.#client = null;
    c?.end().catch(() => undefined);
  }

  /** Gives the lock up (closing its connection). */
  async close(): Promise<void> {
    this.#closed = true;
    const c = this.#client;
    this.#client = null;
    this.#leading = false;
    await c?.end().catch(() => undefined);
  }
}
