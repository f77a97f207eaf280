// Leadership: the node holding the PostgreSQL session advisory lock LEADER_LOCK on its own connection leads (plans placements). The lock goes with the connection: a leader that dies, or loses its connection, lets another node take it at its next try.

import pg from 'pg';
import type { Log } from '../supervisor/worker-pool.js';
import { LEADER_LOCK } from './cluster-store.js';

/** One node's attempt to lead, kept on a dedicated connection (not the pool's: the lock is the session's). */
export class Leadership {
  readonly #url: string;
  readonly #log: Log;
  #client: pg.Client | null = null;
  #leading = false;
  #since = 0;
  #closed = false;

  constructor(url: string, log: Log) {
    this.#url = url;
    this.#log = log;
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
        const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 5000 });
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
      }
      return this.#leading;
    } catch {
      this.#drop();
      return false;
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
