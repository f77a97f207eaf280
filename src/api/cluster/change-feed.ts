// The change feed: LISTEN on the cluster's channel on a dedicated connection; each notification is handed on decoded, and every (re)connection is announced as `null` (a full reconcile: what was sent while it was away is not replayed).

import pg from 'pg';
import type { Log } from '../supervisor/worker-pool.js';
import { CHANNEL, type ClusterChange, decodeChange } from './cluster-store.js';

/** Pause before connecting again after the connection broke, ms. */
const RECONNECT_MS = 500;

/** Listens for {@link ClusterChange}s until closed, connecting again whenever the connection breaks. */
export class ChangeFeed {
  readonly #url: string;
  readonly #log: Log;
  readonly #onChange: (change: ClusterChange | null) => void;
  #client: pg.Client | null = null;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  /** Whether the feed is connected and listening now. */
  connected = false;

  /** `onChange(null)`: the feed (re)connected, anything may have been missed. */
  constructor(url: string, log: Log, onChange: (change: ClusterChange | null) => void) {
    this.#url = url;
    this.#log = log;
    this.#onChange = onChange;
  }

  /** Connects and listens; resolves once listening, or once the first try failed (it keeps trying). */
  async start(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 5000 });
    this.#client = client;
    let broken = false;
    const lost = (): void => {
      if (broken) return;
      broken = true;
      if (this.connected) this.#log.warn({}, 'cluster: the change feed lost its connection; reconnecting (a full reconcile follows)');
      this.connected = false;
      client.end().catch(() => undefined);
      if (!this.#closed) this.#timer = setTimeout(() => void this.start(), RECONNECT_MS);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || msg.payload === undefined) return;
      const change = decodeChange(msg.payload);
      if (change !== undefined) this.#onChange(change);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.connected = true;
      this.#onChange(null);
    } catch {
      lost();
    }
  }

  /** Stops listening. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.connected = false;
    await this.#client?.end().catch(() => undefined);
  }
}
