// One version of a hosted server: its compiled isolate and limits, and the requests running on it; replaced versions are disposed once their last request ends.

import { IsoError } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';
import type { Egress } from '../../sandbox/egress.js';
import { SourceError, TenantSandbox, type SandboxHooks } from '../../sandbox/tenant-sandbox.js';
import type { ServerContext } from './server-context.js';

/**
 * One version of a hosted server (server → version → isolate → request): the sandbox running its
 * source and the limits it was deployed with. Connections keep the context of the version they
 * were accepted under (its connection limits); requests always go to the server's current version.
 */
export class ServerVersion {
  readonly sandbox: TenantSandbox;
  readonly limits: Limits;
  /** Whether error bodies carry the handler's detail (the server's `exposeErrors` when this version was deployed). */
  readonly exposeErrors: boolean;
  /** What connections accepted under this version use. */
  readonly ctx: ServerContext;
  /** Requests running on this version's sandbox. */
  #inFlight = 0;
  /** Replaced by a newer version: disposed once its requests in flight reach 0. */
  #retired = false;

  /** @param ctx the context of connections accepted under this version */
  constructor(sandbox: TenantSandbox, limits: Limits, exposeErrors: boolean, ctx: ServerContext) {
    this.sandbox = sandbox;
    this.limits = limits;
    this.exposeErrors = exposeErrors;
    this.ctx = ctx;
  }

  /**
   * Compiles and evaluates a version of a server's handler. @throws IsoError 422 for a source that cannot be used.
   * @param env its environment as JSON (an object of strings), the handler's second argument
   * @param egress its outbound fetch (its egress policy and limits)
   */
  static async compile(source: string, limits: Limits, hooks: SandboxHooks, env = '{}', egress?: Egress): Promise<TenantSandbox> {
    try {
      return await TenantSandbox.create(source, limits, hooks, env, egress);
    } catch (err) {
      if (err instanceof SourceError) throw new IsoError('ISO_ERR_API_INVALID_SOURCE', err.message);
      throw err;
    }
  }

  /** A request starts on this version's sandbox. */
  enter(): void {
    this.#inFlight++;
  }

  /** A request on it ended; returns whether it was the last one of a retired version (which may now be disposed). */
  leave(): boolean {
    return --this.#inFlight === 0 && this.#retired;
  }

  /** Marks the version replaced; returns whether it has no request in flight (then it may be disposed at once). */
  retire(): boolean {
    this.#retired = true;
    return this.#inFlight === 0;
  }
}
