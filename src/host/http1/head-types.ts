// The types of a parsed request head and of the head parser's results, shared by the codec modules.

import type { ErrorCode } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';

/** The request line and the header fields, in order, exactly as received (values trimmed of OWS). */
export interface RequestHead {
  readonly method: string;
  readonly target: string;
  readonly version: '0.9' | '1.0' | '1.1';
  /** `[name as spelled, value]` pairs in arrival order. */
  readonly fields: ReadonlyArray<readonly [string, string]>;
}

/** Why a request is refused: a stable code and a fixed reason text (never request bytes). */
export interface HttpFault {
  readonly code: ErrorCode;
  readonly reason: string;
}

/**
 * Sees each header field as soon as its line is complete, before the head ends (framing.ts keeps
 * the fields it reads and refuses a bad Content-Length at once).
 */
export interface FieldCheck {
  /** One field, in arrival order; a fault refuses the head at once. */
  check(name: string, value: string): HttpFault | null;
  /** The next request starts. */
  reset(): void;
}

/** The head limits the parser enforces while bytes arrive (declared in schemas/limits.json). */
export type HeadLimits = Pick<Limits, 'maxRequestLineBytes' | 'maxHeaderBytes' | 'maxHeaderFields'>;

/** What one call to {@link HeadParser.push} found. */
export type HeadResult = { readonly kind: 'more' } | { readonly kind: 'head'; readonly head: RequestHead; readonly rest: Buffer } | { readonly kind: 'fault'; readonly fault: HttpFault };
