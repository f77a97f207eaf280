// Loads the heap guard (src/sandbox/native/heap-guard.cc, built into dist/sandbox/native/) into each tenant isolate before any guest or tenant code runs: it caps V8's heap-limit raise at twice memoryMb.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ivm from 'isolated-vm';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/**
 * The built module: next to the compiled sandbox (dist/sandbox/native/heap-guard.node), also when
 * this file runs from src/sandbox/ (the unit tests load the TypeScript sources).
 */
export const HEAP_GUARD_PATH: string =
  [path.join(HERE, 'native', 'heap-guard.node'), path.join(HERE, '..', '..', 'dist', 'sandbox', 'native', 'heap-guard.node')].find((p) => existsSync(p)) ??
  path.join(HERE, 'native', 'heap-guard.node');

let loaded: ivm.NativeModule | undefined;

/**
 * The heap guard, opened once per process.
 * @throws Error when it was not built: a worker without it could hold a GiB past a tenant's memoryMb, so it does not start.
 */
function module(): ivm.NativeModule {
  if (loaded === undefined) {
    if (!existsSync(HEAP_GUARD_PATH)) throw new Error(`the heap guard is not built (${HEAP_GUARD_PATH}): run npm run build`);
    loaded = new ivm.NativeModule(HEAP_GUARD_PATH);
  }
  return loaded;
}

/** Opens the heap guard now, so that a worker without it fails at start-up, not at its first deploy. */
export function loadHeapGuard(): void {
  module();
}

/**
 * Installs the guard's near-heap-limit callback in `context`'s isolate. The module exports nothing;
 * the Reference isolated-vm returns for its (empty) exports is released at once, never placed where
 * guest code could reach it.
 */
export async function guardHeap(context: ivm.Context): Promise<void> {
  const exports = await module().create(context);
  exports.release();
}
