// Per-server limits: their type, derived from schemas/limits.json (the one declaration of their names, units, defaults and ceilings), and the defaults applied to what a tenant asked for.

import type limitsSchema from '../../schemas/limits.json';
import { schemaDefaults } from './schemas.js';

/** The name of a per-server limit: a property of `schemas/limits.json`. */
export type LimitName = keyof (typeof limitsSchema)['properties'];

/**
 * Every per-server limit, all resolved: one number per property of `schemas/limits.json`, whose
 * descriptions give each one's unit and meaning. Code that reads a few takes a `Pick<Limits, …>`
 * (e.g. `HeadLimits`, `ChunkedLimits`, `CpuShareLimits`, `SandboxLimits`).
 */
export type Limits = { readonly [K in LimitName]: number };

const DEFAULTS = Object.freeze(schemaDefaults('limits')) as Limits;

/**
 * Fills in the schema defaults for the limits a tenant left out. The input must already have been
 * validated against `schemas/limits.json` (the API does this), so every value is within its ceiling.
 */
export function resolveLimits(requested: Partial<Limits> | undefined): Limits {
  return Object.freeze({ ...DEFAULTS, ...(requested ?? {}) });
}
