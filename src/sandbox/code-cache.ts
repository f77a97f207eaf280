// V8 code caches of the modules compiled into isolates (tenant and guest), so that replacing an isolate re-instantiates from the cached compile.

import { createHash } from 'node:crypto';
import type ivm from 'isolated-vm';

/**
 * V8 code caches by source text (keyed by its SHA-256), so that replacing an isolate (after a timeout, a memory overrun or
 * a crash) re-instantiates from the cached compile. Host-side only: a cache never enters an isolate.
 * Bounded: at most this many sources are kept (oldest dropped).
 */
const CODE_CACHE_MAX = 256;
const codeCache = new Map<string, ivm.ExternalCopy<ArrayBuffer>>();

/**
 * Compiles `code` as a module of `isolate`, from its cached compile when there is one (and V8 accepts it), else
 * from source, caching what V8 produced.
 * @param filename the name its stack frames show
 */
export async function compileCached(isolate: ivm.Isolate, code: string, filename: string): Promise<ivm.Module> {
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
