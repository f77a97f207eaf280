// Placing a tenant server: the address policy, binding its address (once per address among this service's servers), deploying its replicas on worker slots, and releasing all that again.

import { IsoError } from '../../core/errors.js';
import type { WorkerPool } from '../supervisor/worker-pool.js';
import { type AddressPolicy, checkAddress } from './address-policy.js';
import { bindHandle, resolveBindAddress } from './bind.js';
import type { HandlerCode, ManagedServer, Placement } from './managed-server.js';

/** Binds and deploys servers on the worker pool, and knows which addresses this service's servers hold. */
export class Placer {
  readonly #pool: WorkerPool;
  /** The {@link Placement.key}s bound by a server of this service. */
  readonly #addresses = new Set<string>();
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
   * Checks the address policy, binds the address and deploys `replicas` replicas.
   * @throws IsoError 403 (address policy), 409 (in use), 422 (source), 503 (worker); nothing is left bound.
   */
  async bindAndDeploy(httpdid: number, host: string, port: number, code: HandlerCode, replicas: number): Promise<Placement> {
    const slots = this.#pool.place(replicas);
    // The host is checked against the allow-list before any name is resolved.
    checkAddress(this.#policy, host, port, '');
    const { address, family } = await resolveBindAddress(host);
    checkAddress(this.#policy, host, port, address);
    const key = `${address}|${port}`;
    // Two bound-but-not-listening sockets may share a port (SO_REUSEADDR), so our own servers are checked here.
    if (this.#addresses.has(key)) throw new IsoError('ISO_ERR_API_ADDRESS_IN_USE', `${host} port ${port} is already in use by another server`);
    this.#addresses.add(key);
    try {
      const handle = bindHandle(address, family, port);
      const deployed: number[] = [];
      try {
        const spec = { httpdid, port, source: code.source, limits: code.limits, exposeErrors: code.exposeErrors, env: code.env, egress: code.egress, handle };
        // The first replica compiles the source (a 422 stops here); the others follow together.
        const [first, ...rest] = slots;
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
        handle.close();
        throw err;
      }
      return { key, handle, slots: deployed };
    } catch (err) {
      this.#addresses.delete(key);
      throw err;
    }
  }

  /** Undeploys every replica of `server`, closes its handle (unless it failed, which closed it) and frees its address. */
  async release(server: ManagedServer): Promise<void> {
    const slots = server.slots;
    server.slots = [];
    await Promise.all(slots.map((slot) => this.#pool.undeploy(slot, server.httpdid)));
    if (server.state === 'running') server.handle?.close();
    if (server.key !== '') this.#addresses.delete(server.key);
  }

  /** Forgets every address (the service is stopping). */
  clear(): void {
    this.#addresses.clear();
  }
}
