// Who is calling the API: a bearer token looked up (by hash) in the registry per request, or the open `default` tenant.

import { IsoError } from '../../core/errors.js';
import type { Caller } from '../control/caller.js';
import type { Registry } from '../registry/registry.js';

/** The open tenant used when no tenant exists and the API listens on loopback. */
export const DEFAULT_TENANT = 'default';

export type { Caller };

/** Whether an API host is a loopback address (the only place the open default tenant may exist). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./i.test(host);
}

/**
 * Resolves the caller from the `Authorization` header. Tokens are looked up in SQLite on every
 * request, so tenants added or removed by `isohttpd tenant` apply at once. With no tenant at all
 * and `openAllowed` (loopback API), every request acts for the open `default` tenant.
 * Rejects with IsoError `ISO_ERR_API_UNAUTHORIZED` (401) if the token is missing or unknown.
 */
export async function authenticate(registry: Registry, header: string | undefined, openAllowed: boolean): Promise<Caller> {
  const m = header === undefined ? null : /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  const token = m?.[1];
  if (token !== undefined) {
    const tenant = await registry.tenantByToken(token);
    if (tenant !== undefined) return { name: tenant.name, overrides: tenant.quotas };
  }
  if (openAllowed && !(await registry.hasTenants())) return { name: DEFAULT_TENANT, overrides: {} };
  throw new IsoError(
    'ISO_ERR_API_UNAUTHORIZED',
    token === undefined ? 'this API needs an Authorization: Bearer <token> header (tokens come from `isohttpd tenant add NAME`)' : 'the bearer token is not valid',
  );
}
