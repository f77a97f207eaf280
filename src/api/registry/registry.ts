// The registry as its callers see it: tenants, servers and the httpdid sequence, durable (src/api/registry/sqlite.ts is the one implementation).

import type { Limits } from '../../core/limits.js';

/** Per-tenant quota overrides; an absent one means the configured default. */
export interface QuotaOverrides {
  maxServers?: number;
  maxSourceBytes?: number;
  /** Total `memoryMb × replicas` across the tenant's running servers, MiB. */
  memoryMb?: number;
}

/** A tenant as stored (never its token, only a hash of it). */
export interface TenantRow {
  readonly name: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly quotas: QuotaOverrides;
}

/** A server as stored. */
export interface ServerRow {
  readonly httpdid: number;
  readonly tenant: string;
  readonly host: string;
  readonly port: number;
  readonly source: string;
  readonly limits: Limits;
  readonly replicas: number;
  readonly state: 'running' | 'failed';
  readonly reason: string | null;
  /** 1 at creation, incremented by each redeploy. */
  readonly version: number;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly updatedAt: string;
}

/** How removing a tenant ended. */
export type RemoveTenantResult = { removed: true } | { removed: false; servers: number[] } | { removed: false; missing: true };

/**
 * The durable registry. Every write is committed before the method returns, so an acknowledged
 * write survives a crash. Synchronous in this step.
 */
export interface Registry {
  /** The next httpdid, committed before it is returned: never handed out twice in this data dir. */
  nextHttpdid(): number;
  /**
   * Stores a new server (version 1) if its tenant still exists, or if no tenant exists at all.
   * @returns whether it was stored.
   */
  insertServer(row: Omit<ServerRow, 'version' | 'updatedAt' | 'reason'> & { reason?: string | null }): boolean;
  /** Records a redeploy. @returns the updated row, or undefined if there is no such server. */
  updateServer(httpdid: number, change: { source?: string; limits?: Limits; version: number }): ServerRow | undefined;
  /** Records a server's state (and why it failed). */
  setServerState(httpdid: number, state: 'running' | 'failed', reason: string | null): void;
  /** Deletes a server. @returns whether it existed. */
  deleteServer(httpdid: number): boolean;
  /** Every stored server (all tenants), in httpdid order. */
  servers(): ServerRow[];
  /** One tenant's servers, in httpdid order. */
  serversOf(tenant: string): ServerRow[];
  /** Adds a tenant with a new random token. @returns the token (the only time it is available). */
  addTenant(name: string, quotas?: QuotaOverrides): string;
  /** Every tenant, by name. */
  tenants(): TenantRow[];
  /** One tenant, or undefined. */
  tenant(name: string): TenantRow | undefined;
  /** The tenant a token belongs to, or undefined. */
  tenantByToken(token: string): TenantRow | undefined;
  /** Whether any tenant exists (none: the open `default` tenant may apply). */
  hasTenants(): boolean;
  /** Removes a tenant. @returns `removed`, `missing`, or the httpdids of its servers (then nothing was removed). */
  removeTenant(name: string): RemoveTenantResult;
  /** Closes it. */
  close(): void;
}
