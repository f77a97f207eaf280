// Per-server limits: their type, and the defaults from schemas/limits.json applied to what a tenant asked for.

import { schemaDefaults } from './schemas.js';

/** Every per-server limit, all resolved (see schemas/limits.json for units, defaults and ceilings). */
export interface Limits {
  /** Isolate heap limit, MiB. */
  readonly memoryMb: number;
  /** Wall-clock limit per request, ms. */
  readonly timeoutMs: number;
  /** Largest serialized response, bytes. */
  readonly maxResponseBytes: number;
  /** Longest request line, bytes. */
  readonly maxRequestLineBytes: number;
  /** Largest header section, bytes. */
  readonly maxHeaderBytes: number;
  /** Most header fields per request. */
  readonly maxHeaderFields: number;
  /** Largest request body, bytes. */
  readonly maxBodyBytes: number;
  /** From a request's first byte to the end of its headers, ms. */
  readonly headersTimeoutMs: number;
  /** From a request's first byte to the end of its body, ms. */
  readonly requestTimeoutMs: number;
  /** Idle time allowed between requests on a persistent connection, ms. */
  readonly keepAliveTimeoutMs: number;
  /** Most open connections per server. */
  readonly maxConnections: number;
  /** Most complete requests queued per connection behind the one being answered. */
  readonly maxPipelinedRequests: number;
  /** Largest share of one core's CPU time the server's isolates may use over the window, fraction (0.05–0.75). */
  readonly cpuShare: number;
  /** Sliding window over which the CPU share is measured, ms. */
  readonly cpuShareWindowMs: number;
  /** Least time a server over its CPU share is refused new requests (503), ms. */
  readonly cpuCooldownMs: number;
}

const DEFAULTS = Object.freeze(schemaDefaults('limits')) as unknown as Limits;

/**
 * Fills in the schema defaults for the limits a tenant left out. The input must already have been
 * validated against `schemas/limits.json` (the API does this), so every value is within its ceiling.
 */
export function resolveLimits(requested: Partial<Limits> | undefined): Limits {
  return Object.freeze({ ...DEFAULTS, ...(requested ?? {}) });
}
