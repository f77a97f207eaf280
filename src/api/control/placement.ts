// Placing a tenant server: the address policy, binding its address (once per address among this service's servers; one handle shared by the virtual hosts of an address), deploying its replicas on worker slots, and releasing all that again.

import { IsoError } from '../../core/errors.js';
import type { VirtualHostSpec } from '../../host/worker/protocol.js';
import type { WorkerPool } from '../supervisor/worker-pool.js';
import { type AddressPolicy, checkAddress, checkShare } from './address-policy.js';
import { type BoundHandle, bindHandle, resolveBindAddress } from './bind.js';
import { checkClaims, type Claim } from './hostname-claims.js';
import type { HandlerCode, ManagedServer, Placement, PlaceRequest } from './managed-server.js';

/** One bound address of this service: its handle and, for a shared one, its virtual hosts and the slots they all run on. */
interface BoundAddress {
  readonly handle: BoundHandle;
  /** The servers with hostnames sharing it, by httpdid; null: the address of one server without hostnames. */
  readonly vhosts: Map<number, Claim & { readonly fallback: boolean }> | null;
  /** The slots every server of a shared address runs on (its first server's). */
  readonly slots: readonly number[];
}

/** Binds and deploys servers on the worker pool, and knows which addresses this service's servers hold. */
export class Placer {
  readonly #pool: WorkerPool;
  /** The addresses bound by a server of this service, by {@link Placement.key}. */
  readonly #addresses = new Map<string, BoundAddress>();
  #policy: AddressPolicy;

  /** Places on `pool`'s slots, within `policy`. */
  constructor(pool: WorkerPool, policy: AddressPolicy) {
    this.#pool = pool;
    this.#policy = policy;
  }

  /** Sets the API's own address once it is bound (a port of 0 is only known then). */
  setApiAddress(address: string, port: number): void {
    this.#policy = { ...this.#policy, apiAddress: address, apiPort: port };
  }

  /**
   * Checks the address policy, binds the address (or, for a server with hostnames, joins the
   * address's virtual hosts: the same handle, the same slots) and deploys `replicas` replicas.
   * @throws IsoError 400 (replicas), 403 (address policy), 409 (in use, hostname taken), 422 (source), 503 (worker); nothing is left bound.
   */
  async bindAndDeploy(req: PlaceRequest, code: HandlerCode): Promise<Placement> {
    const { httpdid, host, port, hostnames, replicas } = req;
    const placed = this.#pool.place(replicas);
    // The host is checked against the allow-list before any name is resolved.
    checkAddress(this.#policy, host, port, '');
    const { address, family } = await resolveBindAddress(host);
    checkAddress(this.#policy, host, port, address);
    const key = `${address}|${port}`;
    const held = this.#addresses.get(key);
    let bound: BoundAddress;
    let vhost: VirtualHostSpec | undefined;
    // Two bound-but-not-listening sockets may share a port (SO_REUSEADDR), so our own servers are checked here.
    if (hostnames.length === 0) {
      if (held !== undefined) throw new IsoError('ISO_ERR_API_ADDRESS_IN_USE', `${host} port ${port} is already in use by another server`);
      bound = { handle: bindHandle(address, family, port), vhosts: null, slots: placed };
      this.#addresses.set(key, bound);
    } else {
      if (held !== undefined && held.vhosts === null)
        throw new IsoError('ISO_ERR_API_ADDRESS_IN_USE', `${host} port ${port} is already in use by a server without hostnames (it has the address to itself)`);
      const vhosts = held?.vhosts ?? new Map<number, Claim & { readonly fallback: boolean }>();
      checkShare(this.#policy, req.tenant, new Set([...vhosts.values()].map((v) => v.tenant)), host, port);
      checkClaims({ tenant: req.tenant, hostnames }, [...vhosts.values()], `${host} port ${port}`);
      if (held !== undefined && held.slots.length !== replicas)
        throw new IsoError('ISO_ERR_API_BAD_REQUEST', `body.replicas must be ${held.slots.length} on ${host} port ${port}: every server of a shared address runs on the same workers`);
      const fallback = this.#policy.fallbackServers.includes(httpdid) && ![...vhosts.values()].some((v) => v.fallback);
      // Reserved before the first await: a concurrent claim of the same names is checked against it.
      bound = held ?? { handle: bindHandle(address, family, port), vhosts, slots: placed };
      vhosts.set(httpdid, { tenant: req.tenant, hostnames, fallback });
      this.#addresses.set(key, bound);
      vhost = { key, hostnames, fallback };
    }
    const deployed: number[] = [];
    try {
      const { handle } = bound;
      const spec = { httpdid, port, source: code.source, limits: code.limits, exposeErrors: code.exposeErrors, env: code.env, egress: code.egress, handle, ...(vhost === undefined ? {} : { vhost }) };
      // The first replica compiles the source (a 422 stops here); the others follow together.
      const [first, ...rest] = bound.slots;
      if (first !== undefined) {
        await this.#pool.deploy(first, spec);
        deployed.push(first);
      }
      await Promise.all(
        rest.map(async (slot) => {
          await this.#pool.deploy(slot, spec);
          deployed.push(slot);
        }),
      );
    } catch (err) {
      await Promise.all(deployed.map((slot) => this.#pool.undeploy(slot, httpdid)));
      this.#leave(key, httpdid);
      throw err;
    }
    return { key, handle: bound.handle, slots: deployed };
  }

  /** Lets a server's address go: the handle closes unless other virtual hosts still use it. */
  #leave(key: string, httpdid: number): void {
    const bound = this.#addresses.get(key);
    if (bound === undefined) return;
    if (bound.vhosts !== null) {
      if (!bound.vhosts.delete(httpdid) || bound.vhosts.size > 0) return;
    }
    bound.handle.close();
    this.#addresses.delete(key);
  }

  /**
   * Undeploys every replica of `server` and frees its address: a server without hostnames closes
   * its handle (unless it failed, which closed it); a virtual host leaves its address, whose handle
   * closes with the last of them (the others serve on).
   */
  async release(server: ManagedServer): Promise<void> {
    const slots = server.slots;
    server.slots = [];
    await Promise.all(slots.map((slot) => this.#pool.undeploy(slot, server.httpdid)));
    if (server.key === '') return;
    if (server.hostnames.length > 0) return this.#leave(server.key, server.httpdid);
    if (server.state === 'running') server.handle?.close();
    this.#addresses.delete(server.key);
  }

  /** Closes every bound handle (the service is draining: no new connection is accepted). */
  closeHandles(): void {
    for (const bound of this.#addresses.values()) bound.handle.close();
  }

  /** Forgets every address (the service is stopping). */
  clear(): void {
    this.#addresses.clear();
  }
}
