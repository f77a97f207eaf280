// One instantiated isolate of a tenant server (prelude, handler and bootstrap modules evaluated), built from V8's code cache when it can be.

import { createHash } from 'node:crypto';
import ivm from 'isolated-vm';
import type { Limits } from '../core/limits.js';
import { bootstrapSource } from './bootstrap.js';
import { MAX_LINE_CHARS, MAX_PENDING_LINES, preludeSource } from './prelude.js';
import { installUrlLoader } from './url-loader.js';

/** The handler source cannot be used; the message says why (with line and column where there is one). */
export class SourceError extends Error {
  override name = 'SourceError';
}

/** The sandbox limits that apply inside the isolate (declared in schemas/limits.json). */
export type SandboxLimits = Pick<Limits, 'memoryMb' | 'timeoutMs' | 'maxResponseBytes'>;

/** Console lines as `[level, text]` pairs, oldest first. */
export type ConsoleLines = ReadonlyArray<readonly [string, string]>;

/** Callbacks from a sandbox to its host. */
export interface SandboxHooks {
  /** isolated-vm lost control of the isolate: the process must not go on. */
  onCatastrophicError(message: string): void;
  /** Console output of the handler (module evaluation or a request), already bounded in count and length. */
  onConsole(lines: ConsoleLines): void;
}

/** What a request's handler run came to inside the isolate: `[kind, text, bytes]` (see bootstrap.ts). */
export type RawResult = [string, string, Uint8Array | null];

/** The bootstrap's entry points, reached only through References the host holds. */
export interface Instance {
  readonly isolate: ivm.Isolate;
  /** `(flat [json, id, first, complete, ...]) → [results (null: still pending), console lines]`. */
  readonly dispatchBatch: ivm.Reference<(batch: unknown[]) => [Array<RawResult | null>, unknown]>;
  /** `(id) → Promise<[kind, text, bytes, console lines]>` for a request left pending by its batch. */
  readonly awaitResult: ivm.Reference<(id: number) => Promise<[string, string, Uint8Array | null, unknown]>>;
  /** After a batch timed out: `[results of the requests that finished, console lines]`. */
  readonly salvage: ivm.Reference<() => [Array<RawResult | null>, unknown]>;
}

/** Pulls body bytes for the isolate: `(request id, max bytes or -1) → fresh bytes`. */
export type BodyReader = (id: number, max: number) => Promise<unknown>;

const FILENAME = 'handler.js';
const LEVELS = new Set(['log', 'info', 'warn', 'error', 'debug']);

/** Console lines as they came out of the isolate, re-checked here: the tenant may have tampered with its own prelude's arrays. */
export function consoleLines(raw: unknown): ConsoleLines {
  if (!Array.isArray(raw)) return [];
  const out: Array<readonly [string, string]> = [];
  for (const entry of raw.slice(0, MAX_PENDING_LINES + 1)) {
    if (!Array.isArray(entry)) continue;
    const [level, text] = entry as unknown[];
    out.push([typeof level === 'string' && LEVELS.has(level) ? level : 'log', String(text).slice(0, MAX_LINE_CHARS)]);
  }
  return out;
}

/** Rewrites isolated-vm's `Message [handler.js:2:13]` suffix as `at line 2, column 13`. */
function withPosition(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const m = /^(.*) \[handler\.js:(\d+):(\d+)\]$/s.exec(message);
  return m === null ? `${name}: ${message}` : `${name}: ${m[1] ?? ''} at line ${m[2] ?? '?'}, column ${m[3] ?? '?'}`;
}

/**
 * V8 code caches by source text (keyed by its SHA-256), so that replacing an isolate (after a timeout, a memory overrun or
 * a crash) re-instantiates from the cached compile. Host-side only: a cache never enters an isolate.
 * Bounded: at most this many sources are kept (oldest dropped).
 */
const CODE_CACHE_MAX = 256;
const codeCache = new Map<string, ivm.ExternalCopy<ArrayBuffer>>();

async function compileCached(isolate: ivm.Isolate, code: string, filename: string): Promise<ivm.Module> {
  const key = createHash('sha256').update(code).digest('base64');
  const cached = codeCache.get(key);
  if (cached !== undefined) {
    const mod = await isolate.compileModule(code, { filename, cachedData: cached });
    if (!(mod as { cachedDataRejected?: boolean }).cachedDataRejected) return mod;
  }
  const mod = await isolate.compileModule(code, { filename, produceCachedData: true });
  const produced = (mod as { cachedData?: ivm.ExternalCopy<ArrayBuffer> }).cachedData;
  if (produced !== undefined) {
    if (codeCache.size >= CODE_CACHE_MAX) {
      const oldest = codeCache.keys().next();
      if (oldest.done !== true) codeCache.delete(oldest.value);
    }
    codeCache.set(key, produced);
  }
  return mod;
}

/**
 * A fresh isolate for `source`: compiles (from the code cache when possible), evaluates the
 * modules under the time limit, checks the default export and hands the bootstrap its body reader.
 * @throws SourceError for anything wrong with the source.
 */
export async function instantiate(source: string, limits: SandboxLimits, hooks: SandboxHooks, reader: BodyReader): Promise<Instance> {
  const isolate = new ivm.Isolate({ memoryLimit: limits.memoryMb, onCatastrophicError: (m) => hooks.onCatastrophicError(m) });
  try {
    const context = await isolate.createContext();
    let tenant: ivm.Module;
    try {
      tenant = await compileCached(isolate, source, FILENAME);
    } catch (err) {
      throw new SourceError(withPosition(err));
    }
    const prelude = await compileCached(isolate, preludeSource(), 'isohttpd-prelude.js');
    await prelude.instantiate(context, () => {
      throw new Error('the prelude imports nothing');
    });
    await prelude.evaluate({ timeout: limits.timeoutMs });
    await installUrlLoader(prelude, limits.timeoutMs);
    const boot = await compileCached(isolate, bootstrapSource(limits.maxResponseBytes), 'isohttpd-bootstrap.js');
    try {
      await tenant.instantiate(context, (specifier) => {
        throw new Error(`imports are not available to handlers (import of ${JSON.stringify(specifier)})`);
      });
    } catch (err) {
      throw new SourceError(withPosition(err));
    }
    await boot.instantiate(context, (specifier) => (specifier === 'prelude' ? prelude : tenant));
    try {
      await boot.evaluate({ timeout: limits.timeoutMs });
    } catch (err) {
      if (isolate.isDisposed) throw new SourceError('module evaluation exceeded the memory limit');
      const msg = withPosition(err);
      throw new SourceError(/timed out/i.test(msg) ? `module evaluation exceeded the time limit (${limits.timeoutMs} ms)` : `module evaluation failed: ${msg}`);
    }
    const drain = (await boot.namespace.get('drainLogs', { reference: true })) as ivm.Reference<() => Array<[string, string]>>;
    const topLevel = consoleLines(await drain.apply(undefined, [], { result: { copy: true }, timeout: limits.timeoutMs }));
    if (topLevel.length > 0) hooks.onConsole(topLevel);
    const handlerType: unknown = await boot.namespace.get('handlerType', { copy: true });
    if (handlerType !== 'function') {
      throw new SourceError(
        handlerType === 'undefined'
          ? 'the module has no default export; it must `export default function handler(request)`'
          : `the module's default export must be a function, got ${String(handlerType)}`,
      );
    }
    const ref = async <T>(name: string): Promise<ivm.Reference<T>> => (await boot.namespace.get(name, { reference: true })) as ivm.Reference<T>;
    // The reader goes to the bootstrap's module scope, where tenant code cannot reach it.
    const setReader = await ref<(r: unknown) => void>('setBodyReader');
    await setReader.apply(undefined, [new ivm.Reference(reader)], { timeout: limits.timeoutMs });
    return {
      isolate,
      dispatchBatch: await ref<Instance['dispatchBatch'] extends ivm.Reference<infer F> ? F : never>('dispatchBatch'),
      awaitResult: await ref<Instance['awaitResult'] extends ivm.Reference<infer F> ? F : never>('awaitResult'),
      salvage: await ref<Instance['salvage'] extends ivm.Reference<infer F> ? F : never>('salvage'),
    };
  } catch (err) {
    if (!isolate.isDisposed) isolate.dispose();
    throw err;
  }
}
