// One instantiated isolate of a tenant server version (guest prelude, handler and guest bootstrap modules evaluated), built from V8's code cache when it can be.

import ivm from 'isolated-vm';
import type { Limits } from '../core/limits.js';
import { compileCached } from './code-cache.js';
import { MAX_LINE_CHARS, MAX_PENDING_LINES } from './guest-source.js';
import { evaluationErrorText, exportReadErrorText, type RawResult, sourceErrorText } from './ivm-outcome.js';
import { ReadyIsolate, readyIsolate } from './ready-pool.js';
import type { OutboundHost } from './outbound-host.js';
import type { TimerHost } from './timer-host.js';

/** The handler source cannot be used; the message says why (with line and column where there is one). */
export class SourceError extends Error {
  override name = 'SourceError';
}

/** The sandbox limits that apply inside the isolate (declared in schemas/limits.json). */
export type SandboxLimits = Pick<Limits, 'memoryMb' | 'timeoutMs' | 'maxResponseBytes' | 'maxResponseHeaderFields' | 'maxResponseHeaderBytes'> & Partial<Pick<Limits, 'waitUntilMs'>>;

/** One console line: `[level, text]`, or `[level, text, requestId]` when it is tied to a request (the `X-Request-Id` it was answered with). */
export type ConsoleLine = readonly [level: string, text: string] | readonly [level: string, text: string, requestId: string];

/** Console lines, oldest first. */
export type ConsoleLines = ReadonlyArray<ConsoleLine>;

/** Callbacks from a sandbox to its host. */
export interface SandboxHooks {
  /**
   * isolated-vm lost control of the isolate: the process must not go on. `disposed`: the host had
   * already disposed it (at a request's deadline, or a reset) and answered its requests; it was
   * no longer serving, and the sandbox serves on meanwhile (its other isolates are unaffected).
   */
  onCatastrophicError(message: string, disposed: boolean): void;
  /** Console output of the handler (module evaluation or a request), already bounded in count and length. */
  onConsole(lines: ConsoleLines): void;
}

/** The callbacks of one isolate: {@link SandboxHooks}, its catastrophic error naming the isolate (the sandbox tells whether it was serving). */
export interface InstanceHooks {
  onCatastrophicError(message: string, isolate: ivm.Isolate): void;
  onConsole: SandboxHooks['onConsole'];
}

/**
 * One isolate of a server version, with the bootstrap's entry points, reached only through
 * References the host holds. Lifetimes: a hosted server has versions (one per deploy), a version
 * has one isolate at a time (replaced after a fatal outcome, see replacement.ts), an isolate runs
 * many requests (`SandboxRequest`, batch-scheduler.ts).
 */
export interface IsolateInstance {
  readonly isolate: ivm.Isolate;
  /** `(flat [json, id, first, complete, text, ...], ids of awaited results received since the last batch) → [results (null: still pending), console lines]`. */
  readonly dispatchBatch: ivm.Reference<(batch: unknown[], received: number[], cancelledTimers: number[]) => [Array<RawResult | null>, unknown]>;
  /** `(id) → Promise<[kind, text, bytes, console lines, background flag]>` for a request left pending by its batch. */
  readonly awaitResult: ivm.Reference<(id: number) => Promise<[string, string, Uint8Array | null, unknown, unknown]>>;
  /**
   * What outlives a request's result (src/sandbox/response-stream.ts, background.ts): `(0, id)` a
   * streamed message's next chunks `[kind, text, chunks, console lines]`, `(1, id)` its iterator
   * closed, `(2, id)` its waitUntil work awaited `[failures, console lines]`, `(3, id)` that work forgotten.
   */
  readonly streamOp: ivm.Reference<(op: number, id: number) => unknown>;
  /** After a batch timed out: `[results of the requests that finished, console lines]`. */
  readonly salvage: ivm.Reference<() => [Array<RawResult | null>, unknown]>;
  /** After a batch call failed with an unhandled rejection: `[results of the last completed batch or null, console lines]`. */
  readonly takeLast: ivm.Reference<() => [Array<RawResult | null> | null, unknown]>;
  /** After an awaitResult call failed with an unhandled rejection: `[its settled result or null, console lines]`. */
  readonly takeSettled: ivm.Reference<(id: number) => [RawResult | null, unknown]>;
}

/** Pulls body bytes for the isolate: `(request id, max bytes or -1) → fresh bytes`. */
export type BodyReader = (id: number, max: number) => Promise<unknown>;

const FILENAME = 'handler.js';
/**
 * Time a deploy's instantiation (compile, prelude, tenant module evaluation, checks) may take past
 * `timeoutMs` before the host disposes the isolate and refuses the source, ms: the host-side work
 * of a large module, not tenant time.
 */
export const DEPLOY_MARGIN_MS = 500;
const LEVELS = new Set(['log', 'info', 'warn', 'error', 'debug']);

/**
 * Console lines as they came out of the isolate, re-checked here: the tenant may have tampered with its own prelude's arrays.
 * @param requestOf the request id of a line's tag (the host's id of the request whose handler wrote it), undefined when the tag names no request in flight
 * @param untagged the request id of a line without a tag (the one request in flight when the lines were drained), if any
 */
export function consoleLines(raw: unknown, requestOf?: (tag: number) => string | undefined, untagged?: string): ConsoleLines {
  if (!Array.isArray(raw)) return [];
  const out: ConsoleLine[] = [];
  for (const entry of raw.slice(0, MAX_PENDING_LINES + 1)) {
    if (!Array.isArray(entry)) continue;
    const [level, text, tag] = entry as unknown[];
    const line: readonly [string, string] = [typeof level === 'string' && LEVELS.has(level) ? level : 'log', String(text).slice(0, MAX_LINE_CHARS)];
    const requestId = typeof tag === 'number' ? requestOf?.(tag) : untagged;
    out.push(requestId === undefined || requestId === '' ? line : [line[0], line[1], requestId]);
  }
  return out;
}

/**
 * A fresh isolate for `source`: takes a ready isolate (src/sandbox/ready-pool.ts: the prelude
 * already evaluated) or prepares one, compiles the tenant's module (from the code cache when
 * possible), evaluates it under the time limit, checks the default export and hands the bootstrap
 * its body reader.
 * @param pooled take the ready isolate from the worker's pool when it has one for these limits (a
 *   deploy does; a replacement or standby prepares its own, so that it never empties the pool a deploy waits on)
 * @throws SourceError for anything wrong with the source.
 */
export async function instantiate(
  source: string,
  limits: SandboxLimits,
  hooks: InstanceHooks,
  reader: BodyReader,
  pooled = false,
  env = '{}',
  timers?: TimerHost,
  outbound?: OutboundHost,
): Promise<IsolateInstance> {
  // The host's own deadline: isolated-vm's timeouts bound each call, not what V8 runs between them
  // (a callback of a top-level promise) nor a built-in it cannot interrupt.
  const overtime = (): SourceError => new SourceError(`module evaluation exceeded the time limit (${limits.timeoutMs} ms)`);
  let isolate: ivm.Isolate | null = null;
  let late = false;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      if (isolate !== null && !isolate.isDisposed) isolate.dispose();
      reject(overtime());
    }, limits.timeoutMs + DEPLOY_MARGIN_MS);
  });
  const onLost = (m: string, lost: ivm.Isolate): void => hooks.onCatastrophicError(m, lost);
  const work = (pooled ? readyIsolate(limits, onLost) : ReadyIsolate.prepare(limits, onLost)).then((ready) => {
    isolate = ready.isolate;
    // Ready only after the deadline: no tenant code runs in it.
    if (late) {
      ready.dispose();
      throw overtime();
    }
    return build(ready, source, limits, hooks, reader, env, timers, outbound);
  });
  // Whichever loses the race is settled later and changes nothing.
  work.catch(() => undefined);
  expired.catch(() => undefined);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function build(
  ready: ReadyIsolate,
  source: string,
  limits: SandboxLimits,
  hooks: InstanceHooks,
  reader: BodyReader,
  env: string,
  timers: TimerHost | undefined,
  outbound: OutboundHost | undefined,
): Promise<IsolateInstance> {
  const { isolate, context, guest, boot } = ready;
  try {
    let tenant: ivm.Module;
    try {
      tenant = await compileCached(isolate, source, FILENAME);
    } catch (err) {
      throw new SourceError(sourceErrorText(err));
    }
    try {
      await tenant.instantiate(context, (specifier) => {
        throw new Error(`imports are not available to handlers (import of ${JSON.stringify(specifier)})`);
      });
    } catch (err) {
      throw new SourceError(sourceErrorText(err));
    }
    // The bootstrap alone imports the tenant's module. The tenant's is evaluated on its own first:
    // evaluated as the bootstrap's dependency, a timeout that lands inside a built-in V8 cannot
    // interrupt in the continuation of a top-level await makes V8 abort the process when the
    // built-in returns (CHECK `location_ != nullptr`, isolated-vm 7.0.1 on Node 24); evaluated as
    // the root, it ends as a plain timeout. Then the bootstrap (its dependency already evaluated).
    await boot.instantiate(context, (specifier, referrer) => (specifier === 'tenant' ? tenant : guest.resolve(specifier, referrer)));
    try {
      await tenant.evaluate({ timeout: limits.timeoutMs });
      await boot.evaluate({ timeout: limits.timeoutMs });
    } catch (err) {
      throw new SourceError(evaluationErrorText(err, isolate.isDisposed, limits.timeoutMs));
    }
    const drain = (await boot.namespace.get('drainLogs', { reference: true })) as ivm.Reference<() => Array<[string, string]>>;
    try {
      const topLevel = consoleLines(await drain.apply(undefined, [], { result: { copy: true }, timeout: limits.timeoutMs }));
      if (topLevel.length > 0) hooks.onConsole(topLevel);
    } catch (err) {
      throw new SourceError(evaluationErrorText(err, isolate.isDisposed, limits.timeoutMs));
    }
    let handlerType: unknown;
    try {
      // The bootstrap's own binding: uninitialized if the tenant's module is still in a top-level await.
      handlerType = await boot.namespace.get('handlerType', { copy: true });
    } catch (err) {
      throw new SourceError(exportReadErrorText(err, isolate.isDisposed, limits.timeoutMs));
    }
    if (handlerType !== 'function' && handlerType !== 'fetch') {
      throw new SourceError(
        handlerType === 'undefined'
          ? 'the module has no default export; it must `export default function handler(request, env)` or `export default { fetch(request, env, ctx) }`'
          : `the module's default export must be a function or an object with a fetch method, got ${String(handlerType)}`,
      );
    }
    const ref = async <T>(name: string): Promise<ivm.Reference<T>> => (await boot.namespace.get(name, { reference: true })) as ivm.Reference<T>;
    // The reader goes to the bootstrap's module scope, where tenant code cannot reach it.
    // So do the environment, as JSON (a string crosses, parsed and frozen inside), and the timer
    // function: `(ms, id)` waits (a promise), `(-1, id)` clears; only numbers cross.
    const setReader = await ref<(r: unknown, env: string, t?: unknown, f?: unknown) => void>('setBodyReader');
    const timerFn =
      timers === undefined
        ? undefined
        : new ivm.Reference((ms: unknown, id: unknown): Promise<void> | undefined => {
            if (typeof ms !== 'number' || typeof id !== 'number') return Promise.reject(new TypeError('invalid timer'));
            if (ms === -1) return void timers.clear(isolate, id);
            return timers.start(isolate, ms, id);
          });
    // The outbound fetch (src/sandbox/outbound-host.ts): `(url, method, headers as JSON, body bytes or null)`
    // → a promise of plain data (strings, numbers, a fresh Uint8Array); never rejects.
    const fetchFn =
      outbound === undefined ? undefined : new ivm.Reference((url: unknown, method: unknown, headers: unknown, body: unknown) => outbound.start(isolate, url, method, headers, body ?? null));
    const readerRef = new ivm.Reference(reader);
    await setReader.apply(undefined, fetchFn !== undefined ? [readerRef, env, timerFn, fetchFn] : timerFn !== undefined ? [readerRef, env, timerFn] : [readerRef, env], { timeout: limits.timeoutMs });
    type F<K extends keyof IsolateInstance> = IsolateInstance[K] extends ivm.Reference<infer T> ? T : never;
    // Read together: each is a round trip to the isolate's thread.
    const [dispatchBatch, awaitResult, salvage, takeLast, takeSettled, streamOp] = await Promise.all([
      ref<F<'dispatchBatch'>>('dispatchBatch'),
      ref<F<'awaitResult'>>('awaitResult'),
      ref<F<'salvage'>>('salvage'),
      ref<F<'takeLast'>>('takeLast'),
      ref<F<'takeSettled'>>('takeSettled'),
      ref<F<'streamOp'>>('streamOp'),
    ]);
    return { isolate, dispatchBatch, awaitResult, salvage, takeLast, takeSettled, streamOp };
  } catch (err) {
    if (!isolate.isDisposed) isolate.dispose();
    throw err;
  }
}
