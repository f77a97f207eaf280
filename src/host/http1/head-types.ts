// The types of a parsed request head and of the head parser's results, shared by the codec modules.

import type { ErrorCode } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';

/** The request line and the header fields, in order, exactly as received (values trimmed of OWS). */
export interface RequestHead {
  readonly method: string;
  /** The request-target as sent (RFC 9112 §3.2), checked against the RFC 3986 grammar of its form (uri.ts). */
  readonly target: string;
  /** `1.1` for any HTTP/1.x above 1.0 too (RFC 9110 §2.5: a higher minor version is processed as the highest supported). */
  readonly version: '0.9' | '1.0' | '1.1';
  /**
   * The target's path, not decoded: origin-form's absolute-path, absolute-form's path (`/` when it
   * is empty, RFC 3986 §6.2.3), `*` for asterisk-form.
   */
  readonly path: string;
  /** The target's query (after the first `?`), not decoded; null when there is no `?`. */
  readonly query: string | null;
  /**
   * absolute-form's authority (`host[:port]`): RFC 9112 §3.2.2 has it replace the Host field's value.
   * null for the other forms, whose authority is the Host field's.
   */
  readonly authority: string | null;
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
