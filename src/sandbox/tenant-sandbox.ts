// One tenant server's isolate: compiles the handler module once, runs it per request under the time and memory limits, replaces it after a fatal outcome.

import { createHash } from 'node:crypto';
import ivm from 'isolated-vm';
import type { Outcome } from '../outcome.js';
import { bootstrapSource } from './bootstrap.js';
import { MAX_LINE_CHARS, MAX_PENDING_LINES, preludeSource } from './prelude.js';
import type { BodySource } from './body-source.js';
import { checkResponse, type ValidResponse } from './response-check.js';
import { installUrlLoader } from './url-loader.js';

/** The handler source cannot be used; the message says why (with line and column where there is one). */
export class SourceError extends Error {
  override name = 'SourceError';
}

/** The sandbox limits that apply inside the isolate. */
export interface SandboxLimits {
  /** Heap limit, MiB (isolated-vm's minimum is 8). */
  readonly memoryMb: number;
  /** Wall-clock limit per request, ms. */
  readonly timeoutMs: number;
  /** Largest serialized response, bytes. */
  readonly maxResponseBytes: number;
}

/** How one invocation ended. `detail` is for the client's text body and the log; never includes host internals. */
export type InvokeResult =
  | { readonly outcome: 'ok'; readonly response: ValidResponse }
  | { readonly outcome: Exclude<Outcome, 'ok'>; readonly detail: string };

/** Console lines as `[level, text]` pairs, oldest first. */
export type ConsoleLines = ReadonlyArray<readonly [string, string]>;

/** Callbacks from a sandbox to its host. */
export interface SandboxHooks {
  /** isolated-vm lost control of the isolate: the process must not go on. */
  onCatastrophicError(message: string): void;
  /** Console output of the handler (module evaluation or a request), already bounded in count and length. */
  onConsole(lines: ConsoleLines): void;
}

interface Instance {
  readonly isolate: ivm.Isolate;
  readonly dispatch: ivm.Reference<(json: string, id: number, first: Uint8Array, complete: boolean) => Promise<[string, string, Uint8Array | null, Array<[string, string]>]>>;
}

/** Pulls body bytes for the isolate: `(request id, max bytes or -1) → fresh bytes`. */
type BodyReader = (id: number, max: number) => Promise<unknown>;

const FILENAME = 'handler.js';
const LEVELS = new Set(['log', 'info', 'warn', 'error', 'debug']);

/** Console lines as they came out of the isolate, re-checked here: the tenant may have tampered with its own prelude's arrays. */
function consoleLines(raw: unknown): ConsoleLines {
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

async function instantiate(source: string, limits: SandboxLimits, hooks: SandboxHooks, reader: BodyReader): Promise<Instance> {
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
    await prelude.instantiate(context, () => { throw new Error('the prelude imports nothing'); });
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
    const drain = await boot.namespace.get('drainLogs', { reference: true }) as ivm.Reference<() => Array<[string, string]>>;
    const topLevel = consoleLines(await drain.apply(undefined, [], { result: { copy: true }, timeout: limits.timeoutMs }));
    if (topLevel.length > 0) hooks.onConsole(topLevel);
    const handlerType: unknown = await boot.namespace.get('handlerType', { copy: true });
    if (handlerType !== 'function') {
      throw new SourceError(handlerType === 'undefined' ? 'the module has no default export; it must `export default function handler(request)`' : `the module's default export must be a function, got ${String(handlerType)}`);
    }
    const dispatch = await boot.namespace.get('dispatch', { reference: true }) as Instance['dispatch'];
    // The reader goes to the bootstrap's module scope, where tenant code cannot reach it.
    const setReader = await boot.namespace.get('setBodyReader', { reference: true }) as ivm.Reference<(r: unknown) => void>;
    await setReader.apply(undefined, [new ivm.Reference(reader)], { timeout: limits.timeoutMs });
    return { isolate, dispatch };
  } catch (err) {
    if (!isolate.isDisposed) isolate.dispose();
    throw err;
  }
}

/** An isolate's run time so far, ns (0 once isolated-vm has disposed it on its own, e.g. over its memory limit). */
function runNs(inst: Instance): bigint {
  try {
    return inst.isolate.wallTime;
  } catch {
    return 0n;
  }
}

/** The host function behind `datastream` reads: looks the body up by id; the bytes cross as a fresh copy. */
function readerFor(bodies: Map<number, BodySource>): BodyReader {
  return async (id, max) => {
    const body = bodies.get(id);
    if (body === undefined) throw new Error('the request has ended');
    if (typeof max !== 'number' || !(max === -1 || max > 0)) throw new TypeError('invalid read size');
    // applySyncPromise takes no `result` options: the value must be a transferable, so a copy that
    // materializes as a plain Uint8Array inside the isolate.
    return new ivm.ExternalCopy(await body.read(max)).copyInto({ release: true });
  };
}

/**
 * The isolate of one tenant server. Requests are invoked concurrently (isolated-vm runs them one
 * at a time in the isolate). After a timeout, a memory overrun or a crash the isolate is disposed
 * and a fresh one instantiated from the same source; module-level state does not survive that.
 */
export class TenantSandbox {
  readonly #source: string;
  readonly #limits: SandboxLimits;
  readonly #hooks: SandboxHooks;
  #current: Promise<Instance>;
  #closed = false;
  /** Bodies of the requests in flight, by the id the isolate knows them by. */
  readonly #bodies: Map<number, BodySource>;
  #nextBodyId = 1;
  /** For {@link busyNs}: the instance serving now, the run time last seen of it, and that of the isolates before it, ns. */
  #live: Instance;
  #liveNs = 0n;
  #retiredNs = 0n;

  private constructor(source: string, limits: SandboxLimits, first: Instance, hooks: SandboxHooks, bodies: Map<number, BodySource>) {
    this.#source = source;
    this.#limits = limits;
    this.#current = Promise.resolve(first);
    this.#live = first;
    this.#hooks = hooks;
    this.#bodies = bodies;
  }

  /**
   * Compiles and evaluates the handler module and checks its default export.
   * @throws SourceError when the source does not compile, imports anything, fails or times out at
   *   module level, or does not default-export a function.
   */
  static async create(source: string, limits: SandboxLimits, hooks: SandboxHooks): Promise<TenantSandbox> {
    const bodies = new Map<number, BodySource>();
    const first = await instantiate(source, limits, hooks, readerFor(bodies));
    return new TenantSandbox(source, limits, first, hooks, bodies);
  }

  /**
   * Runs the handler for one request, its body pulled from `body` as the handler reads. Never
   * throws: every failure is an outcome. Time the handler spends waiting for body bytes counts
   * against `timeoutMs`.
   */
  async invoke(requestJson: string, body: BodySource): Promise<InvokeResult> {
    if (this.#closed) return { outcome: 'crashed', detail: 'server is stopping' };
    let inst: Instance;
    try {
      inst = await this.#current;
    } catch (err) {
      return { outcome: 'crashed', detail: `sandbox could not be restarted: ${(err as Error).message}` };
    }
    let deadlinePassed = false;
    // isolated-vm's own `timeout` covers only synchronous code; this deadline covers the rest
    // (microtasks, a promise that never settles, serialization) by disposing the isolate.
    const timer = setTimeout(() => {
      deadlinePassed = true;
      this.#replace(inst);
    }, this.#limits.timeoutMs);
    const id = this.#nextBodyId++;
    this.#bodies.set(id, body);
    const { bytes: first, complete } = body.takeBuffered();
    try {
      const [kind, text, bytes, logs] = await inst.dispatch.apply(undefined, [requestJson, id, first, complete], {
        arguments: { copy: true },
        result: { copy: true, promise: true },
        timeout: this.#limits.timeoutMs,
      });
      const lines = consoleLines(logs);
      if (lines.length > 0) this.#hooks.onConsole(lines);
      if (kind === 'exception') return { outcome: 'exception', detail: `handler raised: ${text}` };
      if (kind === 'invalid') return { outcome: 'invalidResponse', detail: `invalid response: ${text}` };
      const checked = checkResponse(text, bytes, this.#limits.maxResponseBytes);
      return checked.ok ? { outcome: 'ok', response: checked.response } : { outcome: 'invalidResponse', detail: `invalid response: ${checked.reason}` };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.#replace(inst);
      if (deadlinePassed || /timed out/i.test(message)) {
        return { outcome: 'timeout', detail: `handler exceeded its time limit (${this.#limits.timeoutMs} ms)` };
      }
      if (/memory limit/i.test(message)) {
        return { outcome: 'memory', detail: `handler exceeded its memory limit (${this.#limits.memoryMb} MiB)` };
      }
      // Disposed under this request by another request's deadline, or an isolated-vm failure.
      return { outcome: 'crashed', detail: 'the sandbox was reset while this request ran' };
    } finally {
      clearTimeout(timer);
      this.#bodies.delete(id);
    }
  }

  /** Disposes `inst` and, if it is still the current instance, starts a fresh one from the same source. */
  #replace(inst: Instance): void {
    if (!inst.isolate.isDisposed) {
      if (inst === this.#live) this.#observe();
      inst.isolate.dispose();
    }
    if (this.#closed) return;
    void this.#current.then((cur) => {
      if (cur !== inst || this.#closed) return;
      this.#current = instantiate(this.#source, this.#limits, this.#hooks, readerFor(this.#bodies));
      this.#current.then((next) => {
        this.#retiredNs += this.#liveNs;
        this.#liveNs = 0n;
        this.#live = next;
      }, () => undefined);
    }, () => undefined);
  }

  /**
   * Time this server's isolates have spent running (its code, or blocked in a body read), ns,
   * summed over every isolate it has had: isolated-vm's `wallTime` (on this build `cpuTime` is the
   * same figure). Live: includes the call running now. Monotonic; an isolate disposed by
   * isolated-vm itself is counted up to its last reading. Cheap enough to sample every few ms.
   */
  get busyNs(): bigint {
    this.#observe();
    return this.#retiredNs + this.#liveNs;
  }

  /** Reads the live isolate's run time while it can be read (isolated-vm may dispose it on its own, e.g. over its memory limit). */
  #observe(): void {
    if (this.#live.isolate.isDisposed) return;
    const ns = runNs(this.#live);
    if (ns > this.#liveNs) this.#liveNs = ns;
  }

  /** Disposes the isolate; later invocations answer `crashed`. */
  async close(): Promise<void> {
    this.#closed = true;
    try {
      const inst = await this.#current;
      if (!inst.isolate.isDisposed) inst.isolate.dispose();
    } catch {
      // never instantiated: nothing to dispose
    }
  }
}
