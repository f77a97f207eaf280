// A server's secrets through the API: written sealed, listed by name, never returned; each change redeploys the serving version with the new environment (hot, serialized with the server's other changes).

import { IsoError } from '../../core/errors.js';
import type { Registry } from '../registry/registry.js';
import type { Log, WorkerPool } from '../supervisor/worker-pool.js';
import type { Caller } from './caller.js';
import { envJson, type ManagedServer, type Secret } from './managed-server.js';
import type { SecretBox } from './secret-box.js';
import type { ServerTable } from './server-table.js';

/** Most secrets of one server. */
export const MAX_SECRETS = 64;

/** What the secrets need of the server manager. */
export interface SecretsDeps {
  readonly registry: Registry;
  readonly pool: WorkerPool;
  readonly servers: ServerTable;
  readonly box: SecretBox;
  readonly log: Log;
  /** Runs a change of a server after those queued before it (ServerLifecycle.serialized). */
  readonly serialized: <T>(server: ManagedServer, change: (server: ManagedServer) => Promise<T>) => Promise<T>;
}

/** One secret as the API lists it. */
export interface SecretView {
  readonly name: string;
  /** ISO 8601. */
  readonly updatedAt: string;
}

/**
 * Writes and deletes the secrets of the caller's servers. A change is compiled on every replica with
 * the new environment first, then committed to the registry (sealed), then switched on: a failure
 * at any step leaves the old environment serving and nothing stored. A failed server's secrets are
 * stored only (its restart deploys with them).
 */
export class ServerSecrets {
  readonly #deps: SecretsDeps;

  constructor(deps: SecretsDeps) {
    this.#deps = deps;
  }

  /** The names of a server's secrets and when each was written, by name. @throws IsoError 404 */
  list(caller: Caller, httpdid: number): SecretView[] {
    const server = this.#deps.servers.owned(caller, httpdid);
    return [...server.secrets].map(([name, s]) => ({ name, updatedAt: s.updatedAt })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Writes one secret (a new one or a new value) and redeploys with it. @throws IsoError 403 (more than MAX_SECRETS), 404, 422/503 (the redeploy) */
  put(caller: Caller, httpdid: number, name: string, value: string): Promise<SecretView> {
    return this.#deps.serialized(this.#deps.servers.owned(caller, httpdid), async (server) => {
      this.#held(server);
      if (!server.secrets.has(name) && server.secrets.size >= MAX_SECRETS) throw new IsoError('ISO_ERR_API_QUOTA', `server ${httpdid} has ${MAX_SECRETS} secrets already, the most a server may have`);
      const next = new Map(server.secrets);
      next.set(name, { value, updatedAt: '' });
      const updatedAt = await this.#apply(server, next, async () => {
        const at = await this.#deps.registry.putSecret(httpdid, name, this.#deps.box.seal(httpdid, name, value));
        if (at === undefined) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
        return at;
      });
      next.set(name, { value, updatedAt });
      server.secrets = next;
      this.#deps.log.info({ httpdid, secret: name }, 'secret written');
      return { name, updatedAt };
    });
  }

  /** Deletes one secret and redeploys without it. @throws IsoError 404 (no such server or secret), 422/503 (the redeploy) */
  remove(caller: Caller, httpdid: number, name: string): Promise<void> {
    return this.#deps.serialized(this.#deps.servers.owned(caller, httpdid), async (server) => {
      this.#held(server);
      if (!server.secrets.has(name)) throw new IsoError('ISO_ERR_API_SECRET_NOT_FOUND', `server ${httpdid} has no secret ${JSON.stringify(name)}`);
      const next = new Map(server.secrets);
      next.delete(name);
      await this.#apply(server, next, async () => {
        await this.#deps.registry.deleteSecret(httpdid, name);
        return '';
      });
      server.secrets = next;
      this.#deps.log.info({ httpdid, secret: name }, 'secret deleted');
    });
  }

  /** @throws IsoError 404 for a server deleted while the change waited its turn */
  #held(server: ManagedServer): void {
    if (!this.#deps.servers.holds(server)) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${server.httpdid}`);
  }

  /** Prepares the serving version with `secrets` on every replica, runs `store`, then switches (a failed server: `store` only). */
  async #apply(server: ManagedServer, secrets: ReadonlyMap<string, Secret>, store: () => Promise<string>): Promise<string> {
    const env = envJson(server.version.vars, secrets);
    if (server.state !== 'running' || server.handle === null) return store();
    const { source, limits, exposeErrors, egress } = server.version;
    const prepared = await this.#deps.pool.prepare(server.slots, { httpdid: server.httpdid, port: server.port, source, limits, exposeErrors, env, egress, handle: server.handle });
    let stored: string;
    try {
      stored = await store();
    } catch (err) {
      await prepared.abort();
      throw err;
    }
    await prepared.commit();
    server.version = { ...server.version, env };
    return stored;
  }
}
