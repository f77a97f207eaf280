// The tenant servers the control process holds, by httpdid: lookups for one tenant (another tenant's server is answered like a missing one) and its usage.

import { IsoError } from '../../core/errors.js';
import type { Caller } from './caller.js';
import { serverMemoryMb } from './quotas.js';
import type { ManagedServer } from './managed-server.js';

/** Every {@link ManagedServer} of this service (all tenants, running or failed). */
export class ServerTable {
  readonly #servers = new Map<number, ManagedServer>();

  /** Number of servers. */
  get size(): number {
    return this.#servers.size;
  }

  /** The server with this httpdid, of any tenant, or undefined. */
  get(httpdid: number): ManagedServer | undefined {
    return this.#servers.get(httpdid);
  }

  /** Whether `server` is (still) the one held under its httpdid. */
  holds(server: ManagedServer): boolean {
    return this.#servers.get(server.httpdid) === server;
  }

  /** One of the caller's servers. @throws IsoError 404 (also for another tenant's: its existence is not revealed). */
  owned(caller: Caller, httpdid: number): ManagedServer {
    const server = this.#servers.get(httpdid);
    if (server === undefined || server.tenant !== caller.name) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server with httpdid ${httpdid}`);
    return server;
  }

  /**
   * One of the caller's servers by reference: an httpdid (all digits) or a name.
   * @throws IsoError 404 (also for another tenant's).
   */
  resolve(caller: Caller, ref: string): ManagedServer {
    if (/^[0-9]+$/.test(ref)) return this.owned(caller, Number(ref));
    const server = this.named(caller.name, ref);
    if (server === undefined) throw new IsoError('ISO_ERR_API_NOT_FOUND', `no server named ${JSON.stringify(ref)}`);
    return server;
  }

  /** The tenant's server of that name, or undefined. */
  named(tenant: string, name: string): ManagedServer | undefined {
    for (const server of this.#servers.values()) if (server.tenant === tenant && server.name === name) return server;
    return undefined;
  }

  /** Every server, in httpdid order. */
  all(): ManagedServer[] {
    return [...this.#servers.values()].sort((a, b) => a.httpdid - b.httpdid);
  }

  /** Every server, in no particular order. */
  values(): IterableIterator<ManagedServer> {
    return this.#servers.values();
  }

  /** What one tenant holds: its servers, and the isolate memory of its running ones ({@link serverMemoryMb}), MiB. */
  usage(tenant: string): { servers: number; memoryMb: number } {
    let servers = 0;
    let memoryMb = 0;
    for (const server of this.#servers.values()) {
      if (server.tenant !== tenant) continue;
      servers++;
      if (server.state === 'running') memoryMb += serverMemoryMb(server.version.limits, server.replicas);
    }
    return { servers, memoryMb };
  }

  /** Holds `server` under its httpdid. */
  add(server: ManagedServer): void {
    this.#servers.set(server.httpdid, server);
  }

  /** Lets the server with this httpdid go. */
  delete(httpdid: number): void {
    this.#servers.delete(httpdid);
  }

  /** Lets every server go (the service is stopping). */
  clear(): void {
    this.#servers.clear();
  }
}
