// Message framing and connection semantics of a parsed request head (RFC 9112 §3.2, §6, §9; RFC 9110 §7.2, §10.1.1).

import type { FieldCheck, HttpFault, RequestHead } from './head-types.js';
import { trimOws } from './chars.js';
import { checkHost } from './uri.js';

/** How the body of a request is delimited and what the connection does after it. */
export interface Framing {
  /** Whether the body is in the chunked transfer coding (then `contentLength` is 0). */
  readonly chunked: boolean;
  /** Body length in bytes from Content-Length (0: no body). */
  readonly contentLength: number;
  /** Whether the connection stays open after the response (before the response's own say). */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` on HTTP/1.1. */
  readonly expectContinue: boolean;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53 - 1

/**
 * RFC 9110 §5.6.1: a `#element` list, appended to `list` as lower-case tokens (OWS trimmed, lower-cased),
 * empty elements dropped. A value that is one plain token (ASCII, no upper-case letter, no comma, no
 * whitespace, which is all at most SP in ASCII, at either end) is appended as it is.
 */
function addTokens(list: string[], value: string): string[] {
  const n = value.length;
  let plain = n > 0;
  for (let i = 0; i < n && plain; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80 || (c >= 0x41 && c <= 0x5a) || c === 0x2c || ((i === 0 || i === n - 1) && c <= 0x20)) plain = false;
  }
  if (plain) {
    list.push(value);
    return list;
  }
  for (const part of value.split(',')) {
    const t = trimOws(part).toLowerCase();
    if (t !== '') list.push(t);
  }
  return list;
}

/**
 * `name.toLowerCase() === lower` for a lower-case ASCII `lower` without 'k' (the Kelvin sign is the
 * one non-ASCII character that lower-cases to an ASCII letter), without making a string.
 */
function namedAs(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

// The fields framing reads, by name (0 for any other).
const OTHER = 0;
const HOST = 1;
const CONTENT_LENGTH = 2;
const TRANSFER_ENCODING = 3;
const CONNECTION = 4;
const EXPECT = 5;

/** Which of the fields framing reads `name` is; most names are ruled out by their length alone. */
function fieldKind(name: string): number {
  switch (name.length) {
    case 4:
      return (name.charCodeAt(0) | 0x20) === 0x68 && namedAs(name, 'host') ? HOST : OTHER;
    case 6:
      return (name.charCodeAt(0) | 0x20) === 0x65 && namedAs(name, 'expect') ? EXPECT : OTHER;
    case 10:
      return (name.charCodeAt(0) | 0x20) === 0x63 && namedAs(name, 'connection') ? CONNECTION : OTHER;
    case 14:
      return (name.charCodeAt(0) | 0x20) === 0x63 && namedAs(name, 'content-length') ? CONTENT_LENGTH : OTHER;
    case 17:
      return (name.charCodeAt(0) | 0x20) === 0x74 && namedAs(name, 'transfer-encoding') ? TRANSFER_ENCODING : OTHER;
    default:
      return OTHER;
  }
}

const NO_TOKENS: readonly string[] = [];

/**
 * RFC 9112 §3.2: the head parser took only origin-form, absolute-form (http and https URIs) and
 * `*` (uri.ts); here the method: asterisk-form only for OPTIONS (§3.2.4), and CONNECT, which is
 * for authority-form (§3.2.3), refused with an absolute-form target: no tunnels are offered.
 */
function checkTargetForm(head: RequestHead): HttpFault | null {
  const t = head.target;
  if (t.charCodeAt(0) === 0x2f) return null;
  if (t === '*') return head.method === 'OPTIONS' ? null : { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'asterisk-form is only for OPTIONS' };
  if (head.method !== 'CONNECT') return null;
  return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'unsupported request-target form' };
}

/** RFC 9110 §8.6 `Content-Length = 1*DIGIT`, at most 2^53 − 1; returns the value or null if malformed. */
function parseLength(v: string): number | null {
  if (!/^[0-9]+$/.test(v)) return null;
  const n = v.length > 16 ? Infinity : Number(v);
  return n <= MAX_SAFE ? n : null;
}

/**
 * Framing, judged in one place: the head parser hands it each field line as soon as the line is
 * complete ({@link FieldCheck}); it keeps the fields framing reads (Host, Content-Length,
 * Transfer-Encoding, Connection, Expect), refusing a malformed or conflicting Content-Length at
 * once, before the rest of the head arrives (as llhttp does); {@link judge} then decides the head.
 * One per decoder; the head parser resets it for each request. (A class, not closures per decoder:
 * optimized callers then inline one shared method, and no code is thrown away when a decoder's
 * closures are collected.)
 */
export class FramingCheck implements FieldCheck {
  #host = 0;
  /**
   * The last Host value found valid on this connection, kept across its requests: a client sends
   * the same one again and again, and comparing it costs less than judging it byte by byte.
   */
  #validHost: string | null = null;
  /** The first Content-Length element as written, and its value (each element is parsed once). */
  #lengthText: string | null = null;
  #length = 0;
  #transferEncoding: string[] | null = null;
  #connection: string[] | null = null;
  #expect: string[] | null = null;

  check(name: string, value: string): HttpFault | null {
    switch (fieldKind(name)) {
      case HOST:
        // RFC 9112 §3.2: 400 for more than one Host line, or a Host whose value is invalid (RFC 9110 §7.2), in any version.
        if (++this.#host > 1) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'more than one Host header' };
        return value === this.#validHost ? null : this.#checkHost(value);
      case CONTENT_LENGTH:
        return this.#contentLength(value);
      case TRANSFER_ENCODING:
        addTokens((this.#transferEncoding ??= []), value);
        return null;
      case CONNECTION:
        addTokens((this.#connection ??= []), value);
        return null;
      case EXPECT:
        addTokens((this.#expect ??= []), value);
        return null;
      default:
        return null;
    }
  }

  reset(): void {
    this.#host = 0;
    this.#lengthText = null;
    this.#length = 0;
    this.#transferEncoding = null;
    this.#connection = null;
    this.#expect = null;
  }

  #checkHost(value: string): HttpFault | null {
    const f = checkHost(value);
    if (f === null) this.#validHost = value;
    return f;
  }

  /** RFC 9110 §8.6: `Content-Length = 1*DIGIT`; a list of identical values may be taken as one value. */
  #contentLength(value: string): HttpFault | null {
    for (const part of value.split(',')) {
      const v = trimOws(part);
      if (v === this.#lengthText) continue;
      const n = parseLength(v);
      if (n === null) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid Content-Length' };
      if (this.#lengthText !== null) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'differing Content-Length values' };
      this.#lengthText = v;
      this.#length = n;
    }
    return null;
  }

  /**
   * The framing of `head`, whose field lines this check has seen, or why it must be refused. The
   * caller closes the connection after any fault: framing faults are how request smuggling starts.
   */
  judge(head: RequestHead): Framing | HttpFault {
    const formFault = checkTargetForm(head);
    if (formFault !== null) return formFault;
    if (head.version === '0.9') return { chunked: false, contentLength: 0, keepAlive: false, expectContinue: false };
    // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request that lacks a Host field (more than one was refused as it came).
    if (head.version === '1.1' && this.#host === 0) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'HTTP/1.1 request needs a Host header' };

    const transferEncoding = this.#transferEncoding;
    if (transferEncoding !== null) {
      // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 and together with Content-Length are smuggling vectors; refuse both.
      if (head.version === '1.0') return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'Transfer-Encoding in an HTTP/1.0 request' };
      if (this.#lengthText !== null) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'both Content-Length and Transfer-Encoding' };
      if (transferEncoding.length === 0 || transferEncoding[transferEncoding.length - 1] !== 'chunked') {
        // RFC 9112 §6.3: chunked anywhere but last (or an empty list) leaves the length unknowable: 400.
        return transferEncoding.length === 0 || transferEncoding.includes('chunked')
          ? { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'chunked must be the final transfer coding' }
          : { code: 'ISO_ERR_HTTP_NOT_IMPLEMENTED', reason: 'unsupported transfer coding' };
      }
      if (transferEncoding.some((c, i) => c === 'chunked' && i !== transferEncoding.length - 1)) {
        return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'chunked applied more than once' };
      }
      // RFC 9112 §6.1: a server that receives a transfer coding it does not understand SHOULD respond 501.
      if (transferEncoding.length > 1) return { code: 'ISO_ERR_HTTP_NOT_IMPLEMENTED', reason: 'unsupported transfer coding' };
    }

    let expectContinue = false;
    const expect = this.#expect;
    if (expect !== null && head.version === '1.1') {
      // RFC 9110 §10.1.1: 100-continue is the only expectation defined; any other gets 417.
      if (expect.length !== 1 || expect[0] !== '100-continue') return { code: 'ISO_ERR_HTTP_EXPECTATION_FAILED', reason: 'unsupported expectation' };
      expectContinue = true;
    }

    // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 persists only with "keep-alive".
    const tokens = this.#connection ?? NO_TOKENS;
    const keepAlive = head.version === '1.1' ? !tokens.includes('close') : tokens.includes('keep-alive') && !tokens.includes('close');
    return { chunked: transferEncoding !== null, contentLength: transferEncoding === null ? this.#length : 0, keepAlive, expectContinue };
  }
}

/** Whether {@link FramingCheck.judge} refused the request. */
export function isFault(x: Framing | HttpFault): x is HttpFault {
  return 'code' in x;
}
