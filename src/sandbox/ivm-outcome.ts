// The one place where what a call into an isolate came to (an isolated-vm or engine error, or the bootstrap's result) becomes an Outcome (src/core/outcome.ts) and its detail, or the reason a source is refused.

import type { Limits } from '../core/limits.js';
import type { Outcome } from '../core/outcome.js';
import { checkResponse, type ValidResponse } from './response-check.js';

/**
 * How one invocation ended. `detail` is for the tenant's log (and the client's body only with
 * `exposeErrors`, or for `memory` and `crashed`, whose details are the service's own texts); never
 * includes host internals. `stack`: an exception's stack as V8 wrote it (frames of the tenant's
 * module named `handler.js:line:column`), for the log only.
 */
export type InvokeResult = ({ readonly outcome: 'ok'; readonly response: ValidResponse } | { readonly outcome: Exclude<Outcome, 'ok'>; readonly detail: string; readonly stack?: string }) & {
  /**
   * Set when the request goes on after its answer (its streamed body, its waitUntil work): settles
   * once it has ended; until then its isolate (and its version) must stay.
   */
  readonly ended?: Promise<void>;
};

/** What a request's handler run came to inside the isolate: `[kind, text, message]` (see src/sandbox/guest/bootstrap.js); nothing in it is trusted. */
export type RawResult = [string, string, Uint8Array | string | null];

/** The limits the details name. */
type OutcomeLimits = Pick<Limits, 'memoryMb' | 'timeoutMs' | 'maxResponseBytes' | 'maxResponseHeaderFields' | 'maxResponseHeaderBytes'>;

/** The message of what a call into an isolate threw (isolated-vm rethrows the isolate's errors as host errors). */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * isolated-vm's own timeout stopped the call (`Script execution timed out.`); the isolate is still usable.
 * @param text an error's message (or its `name: message`)
 */
export function isTimedOut(text: string): boolean {
  return /timed out/i.test(text);
}

/** isolated-vm disposed the isolate over its memory limit (`Isolate was disposed during execution due to memory limit`). */
function isMemoryLimit(message: string): boolean {
  return /memory limit/i.test(message);
}

/**
 * V8's ArrayBuffer allocator refused an allocation: isolated-vm's limited allocator is over the
 * isolate's memory limit (`RangeError: Array buffer allocation failed`), whether the handler let it
 * through or caught it and rethrew its message.
 */
function isAllocatorKill(text: string): boolean {
  return /Array buffer allocation failed|ArrayBuffer allocation failed/i.test(text);
}

/** Whether a failed batch call was stopped by isolated-vm's timeout, leaving an isolate whose finished results can be salvaged. */
export function stoppedByTimeout(err: unknown, disposed: boolean): boolean {
  return !disposed && isTimedOut(messageOf(err));
}

/**
 * A failed call that was not stopped by a timeout, a memory limit or a disposal: isolated-vm
 * reports an unhandled rejection left at the call's microtask checkpoint as the call's error
 * (the call itself completed; its results can be taken from the bootstrap).
 * @param disposed the isolate is gone
 */
export function isUnhandledRejection(err: unknown, disposed: boolean): boolean {
  const message = messageOf(err);
  return !disposed && !isTimedOut(message) && !isMemoryLimit(message) && !/disposed/i.test(message);
}

/** The tenant console line that reports an unhandled rejection. */
export function unhandledRejectionLine(err: unknown): readonly [string, string] {
  return ['error', `[isohttpd] unhandled promise rejection: ${messageOf(err).slice(0, 1024)}`];
}

/** `crashed`, with what the client is told. */
export function crashed(detail: string): InvokeResult {
  return { outcome: 'crashed', detail };
}

/** A request whose isolate was disposed under it (by another request's deadline, or an isolated-vm failure). */
export const RESET: InvokeResult = crashed('the sandbox was reset while this request ran');

/**
 * What the requests of an isolate isolated-vm lost control of are answered (its `onCatastrophicError`
 * message): `memory` for its out-of-memory (`Catastrophic out-of-memory error`), else `crashed`
 * (`Script failed to terminate`: a call V8 could not interrupt outlasted isolated-vm's wait).
 */
export function catastrophicResult(message: string, limits: OutcomeLimits): InvokeResult {
  if (/out-of-memory|out of memory/i.test(message)) return { outcome: 'memory', detail: `handler exceeded its memory limit (${limits.memoryMb} MiB)` };
  return crashed(`the sandbox was lost: ${message.slice(0, 200)}`);
}

/** A request past its time limit. */
export function timeoutResult(limits: OutcomeLimits): InvokeResult {
  return { outcome: 'timeout', detail: `handler exceeded its time limit (${limits.timeoutMs} ms)` };
}

/**
 * A call into the isolate failed and the isolate is being replaced: `timeout` when the request's
 * deadline had passed or isolated-vm's timeout stopped it, `memory` when isolated-vm disposed the
 * isolate over its memory limit, else the sandbox was reset under it.
 * @param err what the call rejected with
 * @param deadlinePassed the request's own deadline had passed
 */
export function failureOutcome(err: unknown, deadlinePassed: boolean, limits: OutcomeLimits): InvokeResult {
  const message = messageOf(err);
  if (deadlinePassed || isTimedOut(message)) return timeoutResult(limits);
  if (isMemoryLimit(message) || isAllocatorKill(message)) return { outcome: 'memory', detail: `handler exceeded its memory limit (${limits.memoryMb} MiB)` };
  return RESET;
}

/**
 * An `exception` result's text as the bootstrap wrote it (`thrown` in src/sandbox/guest/bootstrap.js):
 * the message, then a NUL and the stack when there is one. A NUL inside the message splits it early,
 * which only moves the rest of that tenant's own text into its own log entry's stack.
 */
function splitThrown(text: string): { message: string; stack: string } {
  const nul = text.indexOf('\u0000');
  return nul === -1 ? { message: text, stack: '' } : { message: text.slice(0, nul), stack: text.slice(nul + 1) };
}

/** What the bootstrap returned for one request: `ok` once the response passes validation, else `exception` or `invalidResponse`. */
export function resultOutcome([kind, text, message]: RawResult, limits: OutcomeLimits): InvokeResult {
  if (kind === 'exception') {
    const { message, stack } = splitThrown(text);
    // The allocator's refusal, whether the handler let it through or rethrew its message: what it said goes to the log only.
    if (isAllocatorKill(message)) return { outcome: 'memory', detail: `handler exceeded its memory limit (${limits.memoryMb} MiB)`, stack: stack === '' ? message : stack };
    return stack === '' ? { outcome: 'exception', detail: `handler raised: ${message}` } : { outcome: 'exception', detail: `handler raised: ${message}`, stack };
  }
  // The guest's containment refused an allocation over the server's budget (wasm memory, a resizable buffer): the isolate is replaced.
  if (kind === 'memory') return { outcome: 'memory', detail: `handler exceeded its memory limit (${limits.memoryMb} MiB): ${text}` };
  // A streamed message's result is its metadata (`message: ""`); its chunks are checked as they are pulled (response-stream.ts).
  if (kind !== 'ok' && kind !== 'stream') return { outcome: 'invalidResponse', detail: `invalid response: ${text}` };
  const checked = checkResponse(text, message, limits);
  return checked.ok ? { outcome: 'ok', response: checked.response } : { outcome: 'invalidResponse', detail: `invalid response: ${checked.reason}` };
}

/** A compile or link error as the tenant is told it: `Name: message`, isolated-vm's `Message [handler.js:2:13]` suffix as `at line 2, column 13`. */
export function sourceErrorText(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const m = /^(.*) \[handler\.js:(\d+):(\d+)\]$/s.exec(message);
  return m === null ? `${name}: ${message}` : `${name}: ${m[1] ?? ''} at line ${m[2] ?? '?'}, column ${m[3] ?? '?'}`;
}

/**
 * Why the tenant's module evaluation failed, as the refused deploy says it.
 * @param disposed the isolate is gone (isolated-vm disposes it over its memory limit)
 * @param timeoutMs the time limit it ran under, ms
 */
export function evaluationErrorText(err: unknown, disposed: boolean, timeoutMs: number): string {
  if (disposed) return 'module evaluation exceeded the memory limit';
  const msg = sourceErrorText(err);
  return isTimedOut(msg) ? `module evaluation exceeded the time limit (${timeoutMs} ms)` : `module evaluation failed: ${msg}`;
}

/** Why a deploy is refused when the tenant's module is still suspended in a top-level `await`. */
export const UNSETTLED_TEXT = 'module evaluation did not finish: a top-level await did not settle';

/**
 * Why reading one of the bootstrap's own exports failed, after its evaluation resolved. A
 * `ReferenceError` there is the binding still uninitialized: the bootstrap's body never ran, because
 * the tenant's module it imports is suspended in a top-level `await` that did not settle
 * (isolated-vm's `evaluate()` resolves at once then). Only that read is mapped this way: the same
 * error thrown by tenant code makes evaluation itself fail ({@link evaluationErrorText}).
 * @param disposed the isolate is gone
 * @param timeoutMs the time limit it ran under, ms
 */
export function exportReadErrorText(err: unknown, disposed: boolean, timeoutMs: number): string {
  const name = (err as { name?: unknown } | null)?.name;
  if (!disposed && name === 'ReferenceError') return UNSETTLED_TEXT;
  return evaluationErrorText(err, disposed, timeoutMs);
}
