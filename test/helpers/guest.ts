// Test helper: loads guest modules (src/sandbox/guest/) into a real isolated-vm isolate, through an entry module of the test's own that imports them by their path from the guest folder's root.

import ivm from 'isolated-vm';
import type { Test } from 'tap';
import { GuestLinker } from '../../src/sandbox/guest-linker.js';

/** An isolate with the test's entry module evaluated. */
export interface LoadedGuest {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  /** The entry module (its namespace: `entry.namespace`). */
  readonly entry: ivm.Module;
  /** Calls the entry's export `name` with `args` copied in; resolves with its result copied out (a promise's once it settles). */
  call<T = unknown>(name: string, ...args: unknown[]): Promise<T>;
  /** Evaluates a script in the isolate's global scope (the globals the prelude installed, if the entry imported it); its result copied out. */
  run<T = unknown>(code: string): Promise<T>;
}

/** Options of {@link loadGuest}. */
export interface LoadOptions {
  /** The isolate's memory limit, MiB (default 32). */
  readonly memoryMb?: number;
  /** maxResponseBytes for the constants module, bytes (default 1 MiB). */
  readonly maxResponseBytes?: number;
  /** maxResponseHeaderFields for the constants module (default 100). */
  readonly maxResponseHeaderFields?: number;
  /** maxResponseHeaderBytes for the constants module, bytes (default 64 KiB). */
  readonly maxResponseHeaderBytes?: number;
  /** The tenant's module source, for an entry that imports the bootstrap. */
  readonly tenant?: string;
  /** Time limit of each call and evaluation, ms (default 5000). */
  readonly timeoutMs?: number;
}

/**
 * A fresh isolate with `entrySource` evaluated; disposed when the test ends.
 * @param entrySource a module, e.g. `import { fill } from './prelude/array-fill.js'; export const f = (n) => ...`
 */
export async function loadGuest(t: Test, entrySource: string, options: LoadOptions = {}): Promise<LoadedGuest> {
  const timeout = options.timeoutMs ?? 5000;
  const isolate = new ivm.Isolate({ memoryLimit: options.memoryMb ?? 32 });
  t.teardown(() => {
    if (!isolate.isDisposed) isolate.dispose();
  });
  const context = await isolate.createContext();
  const linker = new GuestLinker(isolate, {
    memoryMb: options.memoryMb ?? 32,
    maxResponseBytes: options.maxResponseBytes ?? 1024 * 1024,
    maxResponseHeaderFields: options.maxResponseHeaderFields ?? 100,
    maxResponseHeaderBytes: options.maxResponseHeaderBytes ?? 65536,
  });
  const tenant = options.tenant === undefined ? null : await isolate.compileModule(options.tenant, { filename: 'handler.js' });
  if (tenant !== null) {
    await tenant.instantiate(context, (specifier) => {
      throw new Error(`the test tenant imports ${specifier}`);
    });
  }
  const entry = await isolate.compileModule(entrySource, { filename: 'test-entry.js' });
  await entry.instantiate(context, (specifier, referrer) => (specifier === 'tenant' && tenant !== null ? tenant : linker.resolve(specifier, referrer)));
  await entry.evaluate({ timeout });
  return {
    isolate,
    context,
    entry,
    async call<T>(name: string, ...args: unknown[]): Promise<T> {
      const fn = (await entry.namespace.get(name, { reference: true })) as ivm.Reference<(...a: unknown[]) => T>;
      return fn.apply(undefined, args, { arguments: { copy: true }, result: { copy: true, promise: true }, timeout });
    },
    async run<T>(code: string): Promise<T> {
      return (await context.eval(code, { copy: true, timeout })) as T;
    },
  };
}
