// Per-tenant quotas: how many servers, how large a source, how much isolate memory in total; over → 403 ISO_ERR_API_QUOTA.

import { IsoError } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';
import type { QuotaOverrides } from '../registry/registry.js';

/** The effective quotas of one tenant (config defaults, then the tenant's overrides). */
export interface Quotas {
  /** Servers the tenant may have (running or failed). */
  readonly maxServers: number;
  /** Largest handler source, bytes (UTF-8). */
  readonly maxSourceBytes: number;
  /** Total `limits.memoryMb × limits.isolates × replicas` across the tenant's running servers, MiB. */
  readonly memoryMb: number;
  /** Versions of each server kept (the current one included), count. */
  readonly versionsKept: number;
}

/** The isolate memory a server holds against its tenant's `memoryMb` quota: `memoryMb` for each of its isolates on each replica, MiB. */
export function serverMemoryMb(limits: Pick<Limits, 'memoryMb' | 'isolates'>, replicas: number): number {
  return limits.memoryMb * limits.isolates * replicas;
}

/** The config defaults with a tenant's overrides applied. */
export function effectiveQuotas(defaults: Quotas, overrides: QuotaOverrides): Quotas {
  return Object.freeze({ ...defaults, ...overrides });
}

/** What a tenant holds now (its servers, including creations in progress). */
export interface Usage {
  readonly servers: number;
  readonly memoryMb: number;
}

/**
 * Checks a change against a tenant's quotas: one more server (`servers: 1`), or a redeploy of one it
 * has (`servers: 0`, its current memory left out of `usage`).
 * @throws IsoError `ISO_ERR_API_QUOTA` (403) naming the quota, its value and the usage.
 */
export function checkQuota(tenant: string, quotas: Quotas, usage: Usage, add: { servers: 0 | 1; sourceBytes: number; memoryMb: number }): void {
  if (add.sourceBytes > quotas.maxSourceBytes) {
    throw new IsoError('ISO_ERR_API_QUOTA', `quota maxSourceBytes of tenant ${JSON.stringify(tenant)} exceeded: the source is ${add.sourceBytes} bytes, at most ${quotas.maxSourceBytes} are allowed`);
  }
  if (usage.servers + add.servers > quotas.maxServers) {
    throw new IsoError('ISO_ERR_API_QUOTA', `quota maxServers of tenant ${JSON.stringify(tenant)} exceeded: it has ${usage.servers} servers, at most ${quotas.maxServers} are allowed`);
  }
  if (usage.memoryMb + add.memoryMb > quotas.memoryMb) {
    throw new IsoError(
      'ISO_ERR_API_QUOTA',
      `quota memoryMb of tenant ${JSON.stringify(tenant)} exceeded: its servers use ${usage.memoryMb} MiB, this one asks ${add.memoryMb} MiB (memoryMb × isolates × replicas), at most ${quotas.memoryMb} MiB in total are allowed`,
    );
  }
}
