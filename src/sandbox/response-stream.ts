// A streamed response body seen from the host: each `next()` pulls the handler's iterator once in the isolate (under what is left of the request's time limit), re-checks the chunks by type and counts them against maxResponseBytes.

import type { ResponseStream, StreamStep } from '../core/response.js';
import type { IsolateInstance, SandboxLimits } from './isolate-instance.js';
import { failureOutcome, type InvokeResult, resultOutcome, timeoutResult } from './ivm-outcome.js';
import type { SandboxRequest, StreamAbort } from './sandbox-request.js';

/** streamOp's operations (src/sandbox/guest/bootstrap.js). */
export const STREAM_PULL = 0;
export const STREAM_CANCEL = 1;
export const STREAM_BACKGROUND = 2;
export const STREAM_FORGET = 3;

/** What a streamed response needs from the scheduler that runs its request. */
export interface StreamOwner {
  readonly limits: SandboxLimits;
  /** Calls `streamOp(op, id)` in `inst` (tracked as a running call); its result copied out. */
  call(inst: IsolateInstance, op: number, id: number, timeoutMs: number): Promise<unknown>;
  /** The console lines a call returned, tied to `r`. */
  console(raw: unknown, r: SandboxRequest): void;
  /** The request's time limit ran out while its iterator ran (the scheduler's deadline handling). */
  expire(r: SandboxRequest): void;
  /**
   * The stream ended (its last chunk pulled, cancelled, or `failed`): the request goes on to its
   * waitUntil work, or ends. `lost`: the isolate is unusable after it (a call stopped by a time
   * limit, memory refused): it is replaced.
   */
  ended(r: SandboxRequest, failed: InvokeResult | null, inst: IsolateInstance, lost?: boolean): void;
}

/** The failure step of a result that is not `ok`. */
export function failedStep(result: InvokeResult): StreamStep {
  if (result.outcome === 'ok') return { done: true };
  return result.stack === undefined ? { done: 'failed', outcome: result.outcome, detail: result.detail } : { done: 'failed', outcome: result.outcome, detail: result.detail, stack: result.stack };
}

/**
 * The body of one streamed response. The handler's time limit goes on while its iterator runs: the
 * time of each pull is added to the time the handler took before the head, and the pull is bounded
 * by what is left (isolated-vm's timeout for synchronous code, the scheduler's deadline for the
 * rest). Waiting for the client between pulls is not the handler's time (the writer bounds it by
 * responseTimeoutMs).
 */
export class StreamedResponse implements ResponseStream, StreamAbort {
  readonly #r: SandboxRequest;
  readonly #inst: IsolateInstance;
  readonly #owner: StreamOwner;
  /** Bytes counted against maxResponseBytes: the head's JSON, then every chunk. */
  #bytes: number;
  /** Time the handler has used, ms. */
  #spentMs: number;
  /** The iterator is done (ended, failed or cancelled): no pull any more. */
  #over = false;
  /** The last pull also ended the stream: the next step is the end. */
  #endNext = false;
  /** Resolves the pull in progress (with a failure, when the scheduler ends the request meanwhile). */
  #pending: ((s: StreamStep) => void) | null = null;

  /**
   * @param headBytes bytes of the response's JSON (counted against maxResponseBytes)
   * @param spentMs time the handler took up to its result, ms
   */
  constructor(r: SandboxRequest, inst: IsolateInstance, owner: StreamOwner, headBytes: number, spentMs: number) {
    this.#r = r;
    this.#inst = inst;
    this.#owner = owner;
    this.#bytes = headBytes;
    this.#spentMs = spentMs;
  }

  next(): Promise<StreamStep> {
    if (this.#endNext || this.#over) return Promise.resolve({ done: true });
    return new Promise<StreamStep>((resolve) => {
      this.#pending = resolve;
      this.#pull();
    });
  }

  cancel(_reason: string): void {
    if (this.#over) return;
    this.#over = true;
    this.#closeIterator(() => this.#owner.ended(this.#r, null, this.#inst));
  }

  /**
   * Calls the iterator's `return()` (its `finally` blocks), under what is left of the time limit:
   * isolated-vm's timeout for its synchronous part, the scheduler's deadline (which disposes the
   * isolate) for a `return()` that never settles. Then `done`.
   */
  #closeIterator(done: () => void): void {
    const r = this.#r;
    const remaining = Math.max(1, Math.floor(this.#owner.limits.timeoutMs - this.#spentMs));
    const timer = setTimeout(() => this.#owner.expire(r), remaining);
    r.timer = timer;
    const after = (): void => {
      clearTimeout(timer);
      if (r.timer === timer) r.timer = null;
      done();
    };
    this.#owner.call(this.#inst, STREAM_CANCEL, r.id, remaining).then(after, after);
  }

  /** The scheduler ended the request (its isolate was disposed, a deadline): the pull in progress gets `result`. */
  abort(result: InvokeResult): void {
    this.#over = true;
    this.#settle(failedStep(result));
  }

  #settle(step: StreamStep): void {
    const resolve = this.#pending;
    this.#pending = null;
    resolve?.(step);
  }

  #pull(): void {
    const r = this.#r;
    const limits = this.#owner.limits;
    const remaining = Math.floor(limits.timeoutMs - this.#spentMs);
    if (remaining < 1) return this.#fail(timeoutResult(limits));
    const t0 = performance.now();
    const timer = setTimeout(() => this.#owner.expire(r), remaining);
    r.timer = timer;
    // Only this call's deadline is cleared (a close may have set its own meanwhile).
    const clear = (): void => {
      clearTimeout(timer);
      if (r.timer === timer) r.timer = null;
    };
    this.#owner.call(this.#inst, STREAM_PULL, r.id, remaining).then(
      (out) => {
        clear();
        this.#spentMs += performance.now() - t0;
        if (this.#pending === null || this.#over) return;
        this.#took(out);
      },
      (err: unknown) => {
        clear();
        if (this.#pending === null || this.#over) return;
        this.#fail(failureOutcome(err, r.deadlinePassed, limits), true);
      },
    );
  }

  /** What a pull returned: `[kind, text, chunks, console lines]`, nothing in it trusted. */
  #took(out: unknown): void {
    const limits = this.#owner.limits;
    if (!Array.isArray(out)) return this.#fail({ outcome: 'invalidResponse', detail: 'invalid response: the stream returned nothing' });
    const [kind, text, chunks, logs] = out as unknown[];
    this.#owner.console(logs, this.#r);
    if (kind !== 'more' && kind !== 'end') {
      const failed = resultOutcome([String(kind), typeof text === 'string' ? text : '', null], limits);
      return this.#fail(failed.outcome === 'ok' ? { outcome: 'invalidResponse', detail: 'invalid response: the stream failed' } : failed, failed.outcome === 'memory');
    }
    if (!Array.isArray(chunks)) return this.#fail({ outcome: 'invalidResponse', detail: 'invalid response: the stream returned no chunks' });
    const parts: Uint8Array[] = [];
    let n = 0;
    for (const c of chunks as unknown[]) {
      const b = typeof c === 'string' ? Buffer.from(c, 'utf8') : c instanceof Uint8Array ? c : null;
      if (b === null) return this.#fail({ outcome: 'invalidResponse', detail: 'invalid response: a streamed chunk must be a string or a Uint8Array' });
      if (b.byteLength === 0) continue;
      parts.push(b);
      n += b.byteLength;
    }
    this.#bytes += n;
    if (this.#bytes > limits.maxResponseBytes)
      return this.#fail({ outcome: 'invalidResponse', detail: `invalid response: streamed response is larger than maxResponseBytes (${limits.maxResponseBytes} bytes)` });
    if (kind === 'end') {
      this.#over = true;
      this.#owner.ended(this.#r, null, this.#inst);
      if (n === 0) return this.#settle({ done: true });
      this.#endNext = true;
    } else if (n === 0) return this.#pull();
    this.#settle({ done: false, chunks: parts, bytes: n });
  }

  /**
   * The stream failed: the writer is told, the request ends.
   * @param lost the isolate is unusable after it (a timeout, a memory refusal): the scheduler replaces it
   */
  #fail(result: InvokeResult, lost = false): void {
    const wasOver = this.#over;
    this.#over = true;
    this.#settle(failedStep(result));
    if (wasOver) return;
    // An iterator that is not at its end is closed first, except in an isolate that goes.
    if (!lost && result.outcome === 'invalidResponse') return this.#closeIterator(() => this.#owner.ended(this.#r, result, this.#inst));
    this.#owner.ended(this.#r, result, this.#inst, lost);
  }
}
