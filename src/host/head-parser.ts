// Incremental parser of an HTTP/1.x request head (request line + header section), bounded by the per-server limits.

import type { ErrorCode } from '../errors.js';
import { allIn, COLON, CR, FIELD_VCHAR, LF, OWS, SP, TARGET_CHAR, TCHAR } from './chars.js';

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

/** Checks each header field as soon as its line is complete (e.g. Content-Length), before the head ends. */
export interface FieldCheck {
  check(name: string, value: string): HttpFault | null;
  reset(): void;
}

const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"

/** The head limits the parser enforces while bytes arrive. */
export interface HeadLimits {
  readonly maxRequestLineBytes: number;
  readonly maxHeaderBytes: number;
  readonly maxHeaderFields: number;
}

/** What one call to {@link HeadParser.push} found. */
export type HeadResult =
  | { readonly kind: 'more' }
  | { readonly kind: 'head'; readonly head: RequestHead; readonly rest: Buffer }
  | { readonly kind: 'fault'; readonly fault: HttpFault };

const MORE: HeadResult = Object.freeze({ kind: 'more' });
const fault = (code: ErrorCode, reason: string): HeadResult => ({ kind: 'fault', fault: { code, reason } });

/**
 * Parses one request head from bytes fed in any split. Memory stays bounded: only the current
 * incomplete line is kept as bytes (at most the line limit), completed lines become strings.
 * After a `head` or `fault` result, call {@link reset} before the next request.
 */
export class HeadParser {
  readonly #limits: HeadLimits;
  #pending: Buffer[] = [];
  #pendingLen = 0;
  #method = '';
  #target = '';
  #version: '0.9' | '1.0' | '1.1' | null = null;
  #fields: Array<readonly [string, string]> = [];
  #headerBytes = 0;
  #started = false;
  /** The last byte fed was a CR: the next must be LF. */
  #crAtEnd = false;
  /** Bytes of the current, incomplete line already checked by #scanPartial. */
  #scanned = 0;
  /** Offset of the version in the current request line, and its major digit (for #scanPartial). */
  #versionAt = -1;
  #major = 0;
  /** Where #scanPartial is in the current line: request line 0 method, 1 target, 2 version; field line 0 name, 1 value. */
  #phase = 0;
  readonly #onField: FieldCheck | null;
  #allow09 = true;

  constructor(limits: HeadLimits, onField: FieldCheck | null = null) {
    this.#limits = limits;
    this.#onField = onField;
  }

  /** Whether any byte of the current request has arrived (a headers timer runs from then). */
  get started(): boolean {
    return this.#started;
  }

  /** Forgets everything, ready for the next request on the connection. */
  reset(): void {
    this.#pending = [];
    this.#pendingLen = 0;
    this.#method = '';
    this.#target = '';
    this.#version = null;
    this.#fields = [];
    this.#headerBytes = 0;
    this.#started = false;
    this.#crAtEnd = false;
    this.#scanned = 0;
    this.#phase = 0;
    this.#onField?.reset();
    // HTTP/0.9 has no persistent connections: a simple request can only be the first on one.
    this.#allow09 = false;
  }

  /** Feeds bytes; returns the head once its empty line arrived, with the bytes after it in `rest`. */
  push(chunk: Buffer): HeadResult {
    if (chunk.length === 0) return MORE;
    this.#started = true;
    let start = 0;
    if (this.#crAtEnd) {
      this.#crAtEnd = false;
      if (chunk[0] !== LF) return fault('ISO_ERR_HTTP_BAD_REQUEST', 'CR not followed by LF');
    }
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      // RFC 9112 §2.2: a bare CR is refused as soon as it is seen, not when its line ends.
      const cr = chunk.indexOf(CR, start);
      if (cr !== -1 && (nl === -1 || cr < nl)) {
        if (nl !== -1 ? cr !== nl - 1 : cr !== chunk.length - 1) return fault('ISO_ERR_HTTP_BAD_REQUEST', 'CR not followed by LF');
        if (nl === -1) this.#crAtEnd = true;
      }
      if (nl === -1) {
        if (start < chunk.length) {
          this.#pending.push(chunk.subarray(start));
          this.#pendingLen += chunk.length - start;
          // A line that spans packets is checked as its bytes arrive, so a bad one is refused at once.
          const f = this.#scanPartial(chunk, start, chunk.length);
          if (f !== null) return { kind: 'fault', fault: f };
        }
        return this.#checkPartial();
      }
      let line: Buffer;
      if (this.#pendingLen === 0) {
        line = chunk.subarray(start, nl);
      } else {
        this.#pending.push(chunk.subarray(start, nl));
        line = Buffer.concat(this.#pending, this.#pendingLen + nl - start);
        this.#pending = [];
        this.#pendingLen = 0;
      }
      start = nl + 1;
      this.#scanned = 0;
      this.#phase = 0;
      // RFC 9112 §2.2: a bare LF line terminator is ambiguous; this server rejects it.
      if (line.length === 0 || line[line.length - 1] !== CR) return fault('ISO_ERR_HTTP_BAD_REQUEST', 'bare LF line terminator');
      const content = line.subarray(0, line.length - 1);
      const r = this.#version === null ? this.#requestLine(content) : this.#fieldLine(content);
      if (r === 'end') {
        return {
          kind: 'head',
          head: { method: this.#method, target: this.#target, version: this.#version ?? '1.1', fields: this.#fields },
          rest: chunk.subarray(start),
        };
      }
      if (r !== null) return { kind: 'fault', fault: r };
    }
  }

  /**
   * Checks the new bytes `buf[from, to)` of an incomplete line against the grammar of its kind.
   * Only prefixes are judged here; the complete line is parsed (and checked fully) when it ends.
   */
  #scanPartial(buf: Buffer, from: number, to: number): HttpFault | null {
    const requestLine = this.#version === null;
    for (let i = from; i < to; i++, this.#scanned++) {
      const c = buf[i] as number;
      if (c === CR) continue; // placement of CR is checked by push()
      if (requestLine) {
        if (this.#phase === 0) {
          if (c === SP) {
            if (this.#scanned === 0) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request line' };
            this.#phase = 1;
          } else if (TCHAR[c] !== 1) {
            return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid method' };
          }
        } else if (this.#phase === 1) {
          if (c === SP) { this.#phase = 2; this.#versionAt = this.#scanned + 1; }
          else if (TARGET_CHAR[c] !== 1) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request target' };
        } else {
          // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT
          const k = this.#scanned - this.#versionAt;
          const ok = k < 5 ? c === HTTP_SLASH[k] : k === 5 || k === 7 ? c >= 0x30 && c <= 0x39 : k === 6 && c === 0x2e;
          if (!ok || k > 7) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid HTTP version' };
          if (k === 5) this.#major = c;
          // A well-formed version other than 1.0 / 1.1 is refused without waiting for the end of the line.
          if (k === 7 && !(this.#major === 0x31 && (c === 0x30 || c === 0x31))) {
            return { code: 'ISO_ERR_HTTP_VERSION_NOT_SUPPORTED', reason: 'HTTP version not supported' };
          }
        }
      } else if (this.#phase === 0) {
        if (c === 0x3a && this.#scanned > 0) this.#phase = 1;
        else if (TCHAR[c] !== 1) {
          return this.#scanned === 0 && OWS[c] === 1
            ? { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'obsolete line folding' }
            : { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid header field name' };
        }
      } else if (FIELD_VCHAR[c] !== 1) {
        return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid character in header field value' };
      }
    }
    return null;
  }

  #checkPartial(): HeadResult {
    const lim = this.#limits;
    if (this.#version === null) {
      if (this.#pendingLen > lim.maxRequestLineBytes) return { kind: 'fault', fault: this.#lineTooLong(Buffer.concat(this.#pending, this.#pendingLen)) };
    } else if (this.#headerBytes + this.#pendingLen > lim.maxHeaderBytes) {
      return fault('ISO_ERR_HTTP_HEADERS_TOO_LARGE', 'header section too large');
    }
    return MORE;
  }

  /**
   * RFC 9112 §3: 414 when the method ended within the limit (so it is the target that runs on),
   * else 400. Decided on the bytes alone, so any split of the input gets the same answer.
   */
  #lineTooLong(bytes: Buffer): HttpFault {
    const sp = bytes.indexOf(SP);
    return sp > 0 && sp < this.#limits.maxRequestLineBytes
      ? { code: 'ISO_ERR_HTTP_URI_TOO_LONG', reason: 'request target too long' }
      : { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'request line too long' };
  }

  /** RFC 9112 §3: `request-line = method SP request-target SP HTTP-version`. */
  #requestLine(line: Buffer): HttpFault | 'end' | null {
    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line received before the request-line.
    if (line.length === 0) return null;
    if (line.length > this.#limits.maxRequestLineBytes) return this.#lineTooLong(line);
    const sp1 = line.indexOf(SP);
    if (sp1 <= 0 || !allIn(TCHAR, line, 0, sp1)) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid method' };
    const sp2 = line.indexOf(SP, sp1 + 1);
    if (sp2 === -1 && sp1 + 1 < line.length && this.#allow09) {
      // HTTP/0.9 (RFC 1945 §4.1): `Simple-Request = "GET" SP Request-URI CRLF`: no version, no headers.
      if (!allIn(TARGET_CHAR, line, sp1 + 1, line.length)) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request target' };
      if (line.toString('latin1', 0, sp1) !== 'GET') return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request line' };
      this.#method = 'GET';
      this.#target = line.toString('latin1', sp1 + 1);
      this.#version = '0.9';
      return 'end';
    }
    if (sp2 === -1 || sp2 === sp1 + 1) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request line' };
    if (!allIn(TARGET_CHAR, line, sp1 + 1, sp2)) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request target' };
    const version = line.toString('latin1', sp2 + 1);
    // RFC 9112 §2.3: `HTTP-version = HTTP-name "/" DIGIT "." DIGIT`, case-sensitive.
    if (version === 'HTTP/1.1') this.#version = '1.1';
    else if (version === 'HTTP/1.0') this.#version = '1.0';
    else if (/^HTTP\/[0-9]\.[0-9]$/.test(version)) return { code: 'ISO_ERR_HTTP_VERSION_NOT_SUPPORTED', reason: 'HTTP version not supported' };
    else return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid HTTP version' };
    this.#method = line.toString('latin1', 0, sp1);
    this.#target = line.toString('latin1', sp1 + 1, sp2);
    return null;
  }

  /** RFC 9112 §5: `field-line = field-name ":" OWS field-value OWS`; the empty line ends the section. */
  #fieldLine(line: Buffer): HttpFault | 'end' | null {
    if (line.length === 0) return 'end';
    this.#headerBytes += line.length + 2;
    if (this.#headerBytes > this.#limits.maxHeaderBytes) return { code: 'ISO_ERR_HTTP_HEADERS_TOO_LARGE', reason: 'header section too large' };
    if (this.#fields.length >= this.#limits.maxHeaderFields) return { code: 'ISO_ERR_HTTP_HEADERS_TOO_LARGE', reason: 'too many header fields' };
    // RFC 9112 §5.2: obs-fold (a line starting with SP or HTAB) is rejected.
    if (OWS[line[0] as number] === 1) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'obsolete line folding' };
    const colon = line.indexOf(COLON);
    // RFC 9112 §5.1: no whitespace is allowed between the field name and colon: the name must be a token.
    if (colon <= 0 || !allIn(TCHAR, line, 0, colon)) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid header field name' };
    let vs = colon + 1;
    let ve = line.length;
    while (vs < ve && OWS[line[vs] as number] === 1) vs++;
    while (ve > vs && OWS[line[ve - 1] as number] === 1) ve--;
    if (!allIn(FIELD_VCHAR, line, vs, ve)) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid character in header field value' };
    const name = line.toString('latin1', 0, colon);
    const value = line.toString('latin1', vs, ve);
    this.#fields.push([name, value]);
    return this.#onField === null ? null : this.#onField.check(name, value);
  }
}
