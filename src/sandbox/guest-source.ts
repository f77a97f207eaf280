// The guest modules' source text (src/sandbox/guest/, copied as they are into dist/sandbox/guest/ by the build), read once when this module loads, and the constants module the host builds for them.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Limits } from '../core/limits.js';

/** Most console lines an isolate keeps between two drains (older ones are dropped and counted). */
export const MAX_PENDING_LINES = 1000;
/** Longest console line kept, characters. */
export const MAX_LINE_CHARS = 4096;

/** The specifier guest modules import the host's constants by (declared in src/sandbox/guest/guest.d.ts). */
export const CONSTANTS_SPECIFIER = 'isohttpd:constants';

/** Every guest module, by its path under src/sandbox/guest/. */
export const GUEST_PATHS = [
  'prelude/index.js',
  'prelude/array-fill.js',
  'prelude/base64.js',
  'prelude/console.js',
  'prelude/containment.js',
  'prelude/encoding.js',
  'prelude/fetch-api.js',
  'prelude/intrinsics.js',
  'prelude/outbound-fetch.js',
  'prelude/regexp-source.js',
  'prelude/streams.js',
  'prelude/timers.js',
  'prelude/url-search-params.js',
  'prelude/url.js',
  'bootstrap.js',
] as const;

/** A guest module's path under src/sandbox/guest/. */
export type GuestPath = (typeof GUEST_PATHS)[number];

/** The prelude (evaluated first, before the tenant's module) and the bootstrap (evaluated last). */
export const PRELUDE: GuestPath = 'prelude/index.js';
export const BOOTSTRAP: GuestPath = 'bootstrap.js';

/**
 * The source of each guest module, read when this module loads (before the worker drops its
 * privileges). The isolate receives exactly this text.
 */
const SOURCES: ReadonlyMap<GuestPath, string> = new Map(GUEST_PATHS.map((p) => [p, readFileSync(new URL(`./guest/${p}`, import.meta.url), 'utf8')]));

/** The source text of a guest module. */
export function guestSource(p: GuestPath): string {
  const text = SOURCES.get(p);
  if (text === undefined) throw new Error(`no guest module ${p}`);
  return text;
}

/** The name a guest module's stack frames show (no host path: tenant code may read its stack traces). */
export function guestFilename(p: GuestPath | typeof CONSTANTS_SPECIFIER): string {
  return p === CONSTANTS_SPECIFIER ? 'isohttpd/constants.js' : `isohttpd/${p}`;
}

/**
 * What an import in guest code names: `specifier` as written in the module at `from` (a guest path, or
 * undefined for a module outside the guest folder, whose relative imports start at its root).
 * @returns the guest module or the constants module, or null for anything else
 */
export function resolveGuest(specifier: string, from: GuestPath | undefined): GuestPath | typeof CONSTANTS_SPECIFIER | null {
  if (specifier === CONSTANTS_SPECIFIER) return CONSTANTS_SPECIFIER;
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return null;
  const p = path.posix.join(path.posix.dirname(from ?? 'index.js'), specifier);
  return (GUEST_PATHS as readonly string[]).includes(p) ? (p as GuestPath) : null;
}

/** The limits the guest modules see (declared in schemas/limits.json). */
export type ConstantLimits = Pick<Limits, 'memoryMb' | 'maxResponseBytes' | 'maxResponseHeaderFields' | 'maxResponseHeaderBytes'>;

/**
 * The constants module of an isolate: the values the guest modules import from `isohttpd:constants`.
 * Its text depends only on the server's limits.
 */
export function constantsSource(limits: ConstantLimits): string {
  return [
    '// The constants the host gives the guest modules (src/sandbox/guest-source.ts).',
    `export const MAX_PENDING_LINES = ${MAX_PENDING_LINES};`,
    `export const MAX_LINE_CHARS = ${MAX_LINE_CHARS};`,
    `export const MAX_RESPONSE_BYTES = ${Math.floor(limits.maxResponseBytes)};`,
    `export const MAX_RESPONSE_HEADER_FIELDS = ${Math.floor(limits.maxResponseHeaderFields)};`,
    `export const MAX_RESPONSE_HEADER_BYTES = ${Math.floor(limits.maxResponseHeaderBytes)};`,
    `export const MEMORY_BUDGET_BYTES = ${Math.floor(limits.memoryMb) * 1048576};`,
    '',
  ].join('\n');
}
