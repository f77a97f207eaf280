// The PostgreSQL registry's rows: how pg returns them (integers as numbers, expose_errors as a boolean, JSON as text) and the shapes of ./registry.ts they become, identical to the SQLite engine's; the admission's reads.

import type { Language } from '../../core/language.js';
import { type Limits, resolveLimits } from '../../core/limits.js';
import type { EgressPolicy } from '../../host/worker/protocol.js';
import type { PoolClient } from 'pg';
import { type AddressRow, admissionSql, type TenantServerRow, toAdmissionState } from './admission.js';
import type { AdmissionState, QuotaOverrides, ServerRow, TenantRow, VersionRow } from './registry.js';

/** A `servers` row as pg returns it. */
export interface RawServer {
  httpdid: number;
  tenant: string;
  name: string | null;
  host: string;
  port: number;
  source: string;
  language: Language;
  limits: string;
  expose_errors: boolean;
  vars: string;
  hostnames: string;
  egress: string | null;
  replicas: number;
  state: 'running' | 'failed';
  reason: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}
/** A `server_versions` row as pg returns it. */
export type RawVersion = Pick<RawServer, 'httpdid' | 'version' | 'source' | 'language' | 'limits' | 'expose_errors' | 'vars' | 'egress' | 'created_at'>;
/** A `tenants` row as pg returns it. */
export interface RawTenant {
  name: string;
  created_at: string;
  max_servers: number | null;
  max_source_bytes: number | null;
  memory_mb: number | null;
}

const parseEgress = (s: string | null): EgressPolicy | null => (s === null ? null : (JSON.parse(s) as EgressPolicy));

/** A stored server as the registry's callers see it (limits completed with the defaults of limits added since). */
export const toServer = (r: RawServer): ServerRow => ({
  httpdid: r.httpdid,
  tenant: r.tenant,
  name: r.name,
  host: r.host,
  port: r.port,
  hostnames: Object.freeze(JSON.parse(r.hostnames) as string[]),
  source: r.source,
  language: r.language,
  limits: resolveLimits(JSON.parse(r.limits) as Partial<Limits>),
  exposeErrors: r.expose_errors,
  vars: JSON.parse(r.vars) as Record<string, string>,
  egress: parseEgress(r.egress),
  replicas: r.replicas,
  state: r.state,
  reason: r.reason,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A kept version as the registry's callers see it. */
export const toVersion = (r: RawVersion): VersionRow => ({
  httpdid: r.httpdid,
  version: r.version,
  source: r.source,
  language: r.language,
  limits: resolveLimits(JSON.parse(r.limits) as Partial<Limits>),
  exposeErrors: r.expose_errors,
  vars: JSON.parse(r.vars) as Record<string, string>,
  egress: parseEgress(r.egress),
  createdAt: r.created_at,
});

/** A tenant as the registry's callers see it: only its quota overrides. */
export const toTenant = (r: RawTenant): TenantRow => {
  const quotas: QuotaOverrides = {};
  if (r.max_servers !== null) quotas.maxServers = r.max_servers;
  if (r.max_source_bytes !== null) quotas.maxSourceBytes = r.max_source_bytes;
  if (r.memory_mb !== null) quotas.memoryMb = r.memory_mb;
  return { name: r.name, createdAt: r.created_at, quotas };
};

/** The admission's statements with PostgreSQL's placeholders. */
const ADMISSION_SQL = admissionSql((n) => `$${n}`);

/**
 * What an admission of server `httpdid` on (host, port) of `tenant` sees, read on `c` inside the
 * caller's (SERIALIZABLE) transaction: its predicate reads are what conflict with a racing insert.
 */
export async function readAdmission(c: PoolClient, host: string, port: number, tenant: string, httpdid: number): Promise<AdmissionState> {
  const address = await c.query<AddressRow>(ADMISSION_SQL.address, [host, port, httpdid]);
  const servers = await c.query<TenantServerRow>(ADMISSION_SQL.tenant, [tenant, httpdid]);
  return toAdmissionState(address.rows, servers.rows);
}

/** What an admission of the stored server `httpdid` sees (its own host, port and tenant), or undefined for a missing server. */
export async function readAdmissionOf(c: PoolClient, httpdid: number): Promise<AdmissionState | undefined> {
  const stored = (await c.query<Pick<RawServer, 'host' | 'port' | 'tenant'>>('SELECT host, port, tenant FROM servers WHERE httpdid = $1', [httpdid])).rows[0];
  return stored === undefined ? undefined : readAdmission(c, stored.host, stored.port, stored.tenant, httpdid);
}
