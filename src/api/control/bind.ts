// Binds a tenant's listening address in the control process (bound, not yet listening), the way node:cluster shares handles.

import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { IsoError } from '../../core/errors.js';

/** A bound TCP handle as libuv gives it; opaque except for `close`. */
export interface BoundHandle {
  close(): void;
  getsockname(out: { port?: number; address?: string }): number;
}

interface NetInternals {
  // Node's cluster uses this to bind a handle that workers then listen on.
  _createServerHandle(address: string, port: number, addressType: 4 | 6, fd?: number, flags?: number): BoundHandle | number;
}

/** Resolves a host name to the one address a server binds (`localhost` → its first address, IPv4 first). */
export async function resolveBindAddress(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const ip = net.isIP(host);
  if (ip === 4 || ip === 6) return { address: host, family: ip };
  const r = await lookup(host, { family: 0, order: 'ipv4first' });
  return { address: r.address, family: r.family === 6 ? 6 : 4 };
}

/** A bind the kernel refused, with its errno name (`EADDRNOTAVAIL`, `EACCES`, …). */
export class BindError extends IsoError {
  readonly errno: string;

  constructor(code: ConstructorParameters<typeof IsoError>[0], message: string, errno: string) {
    super(code, message);
    this.errno = errno;
  }
}

/** DNS answers that may change by themselves (a resolver not up yet at boot, a name not yet published). */
const DNS_TRANSIENT = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ESERVFAIL', 'ETIMEOUT', 'ECONNREFUSED']);

/**
 * Whether binding and deploying a stored server failed for a cause that may pass by itself, so that
 * a restart's restore waits it out instead of failing the server for good: the address in use
 * (another program, or the previous instance's workers), an address not configured yet
 * (`EADDRNOTAVAIL`: an interface not up at boot), a host name that does not resolve yet, or no
 * sandbox worker for a moment.
 */
export function transientPlacementFailure(err: unknown): boolean {
  if (err instanceof IsoError) return err.code === 'ISO_ERR_API_ADDRESS_IN_USE' || err.code === 'ISO_ERR_API_WORKER_UNAVAILABLE' || (err instanceof BindError && err.errno === 'EADDRNOTAVAIL');
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && DNS_TRANSIENT.has(code);
}

const ERRNO: Readonly<Record<number, string>> = { [-98]: 'EADDRINUSE', [-99]: 'EADDRNOTAVAIL', [-13]: 'EACCES' };

/**
 * Binds `address:port` without listening. The handle is sent to a worker, which listens on it;
 * the control process keeps its copy so the port stays held while a worker is replaced.
 * @throws IsoError `ISO_ERR_API_ADDRESS_IN_USE` (409), `ISO_ERR_API_ADDRESS_NOT_ALLOWED` (403) or
 *   `ISO_ERR_API_BIND_FAILED` (500).
 */
export function bindHandle(address: string, family: 4 | 6, port: number): BoundHandle {
  const r = (net as unknown as NetInternals)._createServerHandle(address, port, family);
  let errno: number;
  if (typeof r === 'number') {
    errno = r;
  } else {
    // libuv defers a bind() EADDRINUSE to listen(), which happens in the worker on a copy of the
    // socket that no longer carries that deferred error: the kernel would then listen on a random
    // port. An unbound socket reports port 0, so the failed bind is caught here instead.
    const out: { port?: number } = {};
    const err = r.getsockname(out);
    if (err === 0 && out.port === port) return r;
    r.close();
    errno = err === 0 ? -98 : err;
  }
  const name = ERRNO[errno] ?? `errno ${errno}`;
  if (name === 'EADDRINUSE') throw new IsoError('ISO_ERR_API_ADDRESS_IN_USE', `${address} port ${port} is already in use`);
  if (name === 'EADDRNOTAVAIL' || name === 'EACCES') throw new BindError('ISO_ERR_API_ADDRESS_NOT_ALLOWED', `${address} port ${port} cannot be bound here (${name})`, name);
  throw new BindError('ISO_ERR_API_BIND_FAILED', `${address} port ${port} could not be bound (${name})`, name);
}
