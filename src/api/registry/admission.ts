// The admission's reads, shared by both registry engines: the two statements (one predicate on the address, one on the tenant) and how their rows become the AdmissionState of ./registry.ts.

import { type Limits, resolveLimits } from '../../core/limits.js';
import type { AdmissionState } from './registry.js';

/** A row of the address statement (hostnames as the JSON text stored). */
export interface AddressRow {
  readonly httpdid: number;
  readonly tenant: string;
  readonly hostnames: string;
  readonly replicas: number;
}

/** A row of the tenant statement (limits as the JSON text stored). */
export interface TenantServerRow {
  readonly limits: string;
  readonly replicas: number;
  readonly state: 'running' | 'failed';
}

/** The admission's statements, with the placeholders of an engine. */
export interface AdmissionSql {
  /** The servers on (host, port), the server itself excluded: parameters host, port, httpdid. */
  readonly address: string;
  /** The tenant's servers, the server itself excluded: parameters tenant, httpdid. */
  readonly tenant: string;
}

/**
 * The admission's statements, `placeholder(n)` naming the n-th parameter (1-based): `?` for
 * SQLite, `$n` for PostgreSQL. Both engines run the same predicates, so they admit alike. On
 * PostgreSQL the address read uses the index `servers_by_address` and the tenant read
 * `servers_by_tenant`, whose ranges are what SERIALIZABLE's predicate locks cover.
 */
export function admissionSql(placeholder: (n: number) => string): AdmissionSql {
  const p = placeholder;
  return {
    address: `SELECT httpdid, tenant, hostnames, replicas FROM servers WHERE host = ${p(1)} AND port = ${p(2)} AND httpdid <> ${p(3)} ORDER BY httpdid`,
    tenant: `SELECT limits, replicas, state FROM servers WHERE tenant = ${p(1)} AND httpdid <> ${p(2)}`,
  };
}

/**
 * What the admission sees, from the rows of its two statements. The memory of a server is
 * `memoryMb × isolates × replicas`, the formula of `serverMemoryMb` in src/api/control/quotas.ts,
 * computed here inline: the registry imports nothing of src/api/control (control sits above it).
 * Limits stored before a limit existed get its default, as the row converters read them.
 */
export function toAdmissionState(address: readonly AddressRow[], tenant: readonly TenantServerRow[]): AdmissionState {
  let tenantMemoryMb = 0;
  for (const s of tenant) {
    if (s.state !== 'running') continue;
    const limits = resolveLimits(JSON.parse(s.limits) as Partial<Limits>);
    tenantMemoryMb += limits.memoryMb * limits.isolates * s.replicas;
  }
  return Object.freeze({
    sameAddress: Object.freeze(address.map((r) => Object.freeze({ httpdid: r.httpdid, tenant: r.tenant, hostnames: Object.freeze(JSON.parse(r.hostnames) as string[]), replicas: r.replicas }))),
    tenantServers: tenant.length,
    tenantMemoryMb,
  });
}
