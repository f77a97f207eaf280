// The response a handler produced once it passed validation: what the sandbox hands out and the HTTP codec frames; a streamed one carries its body as a ResponseStream.

import type { Outcome } from './outcome.js';

/** An HTTP version isohttpd speaks. */
export type HttpVersion = '0.9' | '1.0' | '1.1';

/**
 * One step of a streamed body: the next bytes, the end, or why the stream failed (the head was sent
 * already, so the client sees a truncated body; the failure goes to the tenant's log).
 */
export type StreamStep =
  | { readonly done: false; readonly chunks: readonly Uint8Array[]; readonly bytes: number }
  | { readonly done: true }
  | { readonly done: 'failed'; readonly outcome: Exclude<Outcome, 'ok'>; readonly detail: string; readonly stack?: string };

/**
 * The body of a streamed response, pulled by whoever writes it (src/host/worker/response-stream.ts):
 * the handler's iterator is not advanced faster than `next` is called. Every step is bounded by the
 * handler's time limit and counted against `maxResponseBytes`.
 */
export interface ResponseStream {
  /** The next step; never rejects. At most one call pending at a time. */
  next(): Promise<StreamStep>;
  /**
   * The writer stops (the client went away, `responseTimeoutMs`, a HEAD or bodyless status): the
   * handler's iterator is closed (its `return()` called, under the time limit) and the request ends.
   * @param reason for the tenant's log
   */
  cancel(reason: string): void;
}

/** A response dict that passed validation (src/sandbox/response-check.ts), with its message as bytes, or a stream of them. */
export interface ValidResponse {
  readonly version: HttpVersion;
  readonly statuscode: number;
  readonly statusmsg?: string | undefined;
  readonly headers: Readonly<Record<string, string | number>>;
  /** The whole body (empty for a streamed response). */
  readonly body: Uint8Array;
  /** A streamed body (the message was an iterable, an async iterable or a ReadableStream): `body` is then empty. */
  readonly stream?: ResponseStream;
}
