// Incremental parser of an HTTP/1.x request head (request line + header section), bounded by the per-server limits.

import type { ErrorCode } from '../../core/errors.js';
import { CR, LF } from './chars.js';
import { lineTooLong, parseFieldLine, parseRequestLine } from './head-lines.js';
import { CHECK_TARGET, MARK_SLOTS, PartialScan, scanFieldLine, scanRequestLine, WordView } from './head-scan.js';
import type { FieldCheck, HeadLimits, HeadResult, HttpFault, RequestHead } from './head-types.js';
import { parseTarget } from './uri.js';

export type { FieldCheck, HeadLimits, HeadResult, HttpFault, RequestHead } from './head-types.js';

const MORE: HeadResult = Object.freeze({ kind: 'more' });

/** {@link HeadParser.feed}: more bytes are needed. */
export const HEAD_MORE = -1;
/** {@link HeadParser.feed}: the input is refused; {@link HeadParser.fault} says why. */
export const HEAD_FAULT = -2;

/** Lines the fast path takes per batch (one latin1 conversion per batch). */
const BATCH = 32;

/**
 * Parses one request head from bytes fed in any split. Memory stays bounded: only the current
 * incomplete line is kept as bytes (at most the line limit), completed lines become strings.
 * After a head or a fault, call {@link reset} before the next request.
 *
 * Complete, well-formed lines take a fast path: located by offsets (head-scan.ts), then made
 * strings with one latin1 conversion per batch. Any other line (incomplete, malformed, at a
 * limit, an empty line before the request line, HTTP/0.9) goes through {@link #line}, which
 * judges it exactly; both give the same answer for the lines the fast path takes.
 */
export class HeadParser {
  #limits: HeadLimits;
  #pending: Buffer[] = [];
  #pendingLen = 0;
  #method = '';
  #target = '';
  #path = '';
  #query: string | null = null;
  #authority: string | null = null;
  #version: '0.9' | '1.0' | '1.1' | null = null;
  #fields: Array<readonly [string, string]> = [];
  #headerBytes = 0;
  #started = false;
  /** The last byte fed was a CR: the next must be LF. */
  #crAtEnd = false;
  /** Checks the current incomplete line as its bytes arrive. */
  readonly #partial = new PartialScan();
  /** Offsets of the lines the fast path found, {@link MARK_SLOTS} per line. */
  readonly #marks = new Int32Array(BATCH * MARK_SLOTS);
  /** What the fast path's scan saw of the target (see {@link scanRequestLine}). */
  readonly #origin = new Int32Array(1);
  readonly #onField: FieldCheck | null;
  #allow09 = true;
  #head: RequestHead | null = null;
  #fault: HttpFault | null = null;
  /** A DataView of the buffer being parsed, for long values; dropped by {@link release}. */
  readonly #words = new WordView();

  constructor(limits: HeadLimits, onField: FieldCheck | null = null) {
    this.#limits = limits;
    this.#onField = onField;
  }

  /** Reads the next heads under `limits` (a connection of a shared address, once routed to its server). */
  useLimits(limits: HeadLimits): void {
    this.#limits = limits;
  }

  /** Bytes of the header section read so far (each field line with its CRLF; the request line not counted), as `maxHeaderBytes` counts them. */
  get headerBytes(): number {
    return this.#headerBytes;
  }

  /** Whether any byte of the current request has arrived (a headers timer runs from then). */
  get started(): boolean {
    return this.#started;
  }

  /** The head, after {@link feed} returned its end. */
  get head(): RequestHead | null {
    return this.#head;
  }

  /** Why the input was refused, after {@link feed} returned {@link HEAD_FAULT}. */
  get fault(): HttpFault | null {
    return this.#fault;
  }

  /** Forgets everything, ready for the next request on the connection. */
  reset(): void {
    if (this.#pending.length > 0) this.#pending = [];
    this.#pendingLen = 0;
    this.#method = '';
    this.#target = '';
    this.#version = null;
    this.#fields = [];
    this.#headerBytes = 0;
    this.#started = false;
    this.#crAtEnd = false;
    this.#partial.reset();
    this.#head = null;
    this.#fault = null;
    this.#onField?.reset();
    // HTTP/0.9 has no persistent connections: a simple request can only be the first on one.
    this.#allow09 = false;
  }

  /** Feeds bytes; returns the head once its empty line arrived, with the bytes after it in `rest`. */
  push(chunk: Buffer): HeadResult {
    const r = this.feed(chunk, 0);
    this.release();
    const head = this.#head;
    if (r >= 0 && head !== null) return { kind: 'head', head, rest: chunk.subarray(r) };
    const f = this.#fault;
    return r === HEAD_FAULT && f !== null ? { kind: 'fault', fault: f } : MORE;
  }

  /** Lets go of the last buffer fed (call when done with it: {@link feed} may keep a view of it). */
  release(): void {
    this.#words.release();
  }

  /**
   * Feeds `buf[start..]`, as {@link push} but without making views: returns the offset just past
   * the head's empty line ({@link head} is then set), or {@link HEAD_MORE}, or {@link HEAD_FAULT}.
   * Heads pipelined in one buffer are read by calls with the same `buf`; then {@link release}.
   */
  feed(buf: Buffer, start: number): number {
    this.#head = null;
    const end = buf.length;
    if (start >= end) return HEAD_MORE;
    this.#started = true;
    let p = start;
    if (this.#crAtEnd) {
      this.#crAtEnd = false;
      if (buf[p] !== LF) return this.#refuse('ISO_ERR_HTTP_BAD_REQUEST', 'CR not followed by LF');
    }
    for (;;) {
      if (this.#pendingLen === 0) {
        p = this.#fast(buf, p);
        if (p < 0 || this.#head !== null) return p;
        if (p === end) return HEAD_MORE;
      }
      p = this.#line(buf, p);
      if (p < 0 || this.#head !== null) return p;
    }
  }

  #refuse(code: ErrorCode, reason: string): number {
    this.#fault = { code, reason };
    return HEAD_FAULT;
  }

  #refuseWith(f: HttpFault): number {
    this.#fault = f;
    return HEAD_FAULT;
  }

  /**
   * The fast path, from a line start with nothing pending: takes complete, well-formed lines
   * while each stays within the limits, then makes their strings from one latin1 conversion and
   * runs the field check on each in order. Returns the offset after the lines taken (after the
   * head's empty line if it came: {@link head} is then set), or {@link HEAD_FAULT}.
   */
  #fast(buf: Buffer, start: number): number {
    const end = buf.length;
    const lim = this.#limits;
    const m = this.#marks;
    const requestLine = this.#version === null;
    let p = start;
    let n = 0;
    if (requestLine) {
      const lf = scanRequestLine(buf, p, end, m, this.#origin);
      if (lf === -1 || (m[4] as number) - p > lim.maxRequestLineBytes) return start;
      p = lf + 1;
      n = 1;
    }
    let headerBytes = this.#headerBytes;
    let fields = this.#fields.length;
    let ended = false;
    while (n < BATCH) {
      if (p + 1 < end && buf[p] === CR && buf[p + 1] === LF) {
        ended = true;
        break;
      }
      if (fields >= lim.maxHeaderFields) break;
      const o = n * MARK_SLOTS;
      const lf = scanFieldLine(buf, this.#words, p, end, m, o);
      if (lf === -1) break;
      headerBytes += (m[o + 4] as number) - p + 2;
      if (headerBytes > lim.maxHeaderBytes) break;
      fields++;
      n++;
      p = lf + 1;
    }
    if (n > 0) {
      const base = m[0] as number;
      const s = buf.toString('latin1', base, m[(n - 1) * MARK_SLOTS + 4]);
      let k = 0;
      if (requestLine) {
        this.#version = m[3] === 0 ? '1.0' : '1.1';
        this.#method = s.substring(0, (m[1] as number) - base);
        const target = s.substring((m[1] as number) + 1 - base, (m[2] as number) - base);
        const q = this.#origin[0] as number;
        if (q === CHECK_TARGET) {
          const f = this.#takeTarget(target);
          if (f !== null) return this.#refuseWith(f);
        } else {
          // An origin-form the scan found valid: its parts without a second look.
          const at = q - (m[1] as number) - 1;
          this.#target = target;
          this.#authority = null;
          this.#path = q < 0 ? target : target.substring(0, at);
          this.#query = q < 0 ? null : target.substring(at + 1);
        }
        k = 1;
      }
      for (; k < n; k++) {
        const o = k * MARK_SLOTS;
        const ls = m[o] as number;
        this.#headerBytes += (m[o + 4] as number) - ls + 2;
        const name = s.substring(ls - base, (m[o + 1] as number) - base);
        const value = s.substring((m[o + 2] as number) - base, (m[o + 3] as number) - base);
        this.#fields.push([name, value]);
        if (this.#onField !== null) {
          const f = this.#onField.check(name, value);
          if (f !== null) return this.#refuseWith(f);
        }
      }
    }
    if (!ended) return p;
    this.#head = this.#makeHead();
    return p + 2;
  }

  #makeHead(): RequestHead {
    return { method: this.#method, target: this.#target, version: this.#version ?? '1.1', fields: this.#fields, path: this.#path, query: this.#query, authority: this.#authority };
  }

  /** Keeps the request-target `t` and its parts, or says why its grammar refuses it (uri.ts). */
  #takeTarget(t: string): HttpFault | null {
    const r = parseTarget(t);
    if ('code' in r) return r;
    this.#target = t;
    this.#path = r.path;
    this.#query = r.query;
    this.#authority = r.authority;
    return null;
  }

  /**
   * One line from `chunk[start..]` (joined to what is pending), or the incomplete rest of the
   * chunk. Returns the offset after the line, or {@link HEAD_MORE}, or {@link HEAD_FAULT}.
   */
  #line(chunk: Buffer, start: number): number {
    const nl = chunk.indexOf(LF, start);
    // RFC 9112 §2.2: a bare CR is refused as soon as it is seen, not when its line ends.
    const cr = chunk.indexOf(CR, start);
    if (cr !== -1 && (nl === -1 || cr < nl)) {
      if (nl !== -1 ? cr !== nl - 1 : cr !== chunk.length - 1) return this.#refuse('ISO_ERR_HTTP_BAD_REQUEST', 'CR not followed by LF');
      if (nl === -1) this.#crAtEnd = true;
    }
    if (nl === -1) {
      if (start < chunk.length) {
        this.#pending.push(chunk.subarray(start));
        this.#pendingLen += chunk.length - start;
        // A line that spans packets is checked as its bytes arrive, so a bad one is refused at once.
        const f = this.#partial.scan(chunk, start, chunk.length, this.#version === null);
        if (f !== null) return this.#refuseWith(f);
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
    this.#partial.reset();
    // RFC 9112 §2.2: a bare LF line terminator is ambiguous; this server rejects it.
    if (line.length === 0 || line[line.length - 1] !== CR) return this.#refuse('ISO_ERR_HTTP_BAD_REQUEST', 'bare LF line terminator');
    const content = line.subarray(0, line.length - 1);
    const r = this.#version === null ? this.#requestLine(content) : this.#fieldLine(content);
    if (r === 'end') {
      this.#head = this.#makeHead();
    } else if (r !== null) {
      return this.#refuseWith(r);
    }
    return nl + 1;
  }

  #checkPartial(): number {
    const lim = this.#limits;
    if (this.#version === null) {
      // A CR the line's LF has not followed yet is not counted: any split gives the answer the whole line gets.
      if (this.#pendingLen - (this.#crAtEnd ? 1 : 0) > lim.maxRequestLineBytes) return this.#refuseWith(lineTooLong(Buffer.concat(this.#pending, this.#pendingLen), lim.maxRequestLineBytes));
    } else if (this.#headerBytes + this.#pendingLen > lim.maxHeaderBytes) {
      return this.#refuse('ISO_ERR_HTTP_HEADERS_TOO_LARGE', 'header section too large');
    }
    return HEAD_MORE;
  }

  /** A complete request line (without CRLF): the parts are kept; 'end' for HTTP/0.9; null to go on. */
  #requestLine(line: Buffer): HttpFault | 'end' | null {
    const r = parseRequestLine(line, this.#limits.maxRequestLineBytes, this.#allow09);
    if (r === null || 'code' in r) return r;
    // The target's grammar is judged once the whole line is, so any split gives the answer the whole line gets.
    const f = this.#takeTarget(r.target);
    if (f !== null) return f;
    this.#version = r.version;
    this.#method = r.method;
    return r.version === '0.9' ? 'end' : null;
  }

  /** A complete field line (without CRLF) within the limits; the empty line ends the section. */
  #fieldLine(line: Buffer): HttpFault | 'end' | null {
    if (line.length === 0) return 'end';
    this.#headerBytes += line.length + 2;
    if (this.#headerBytes > this.#limits.maxHeaderBytes) return { code: 'ISO_ERR_HTTP_HEADERS_TOO_LARGE', reason: 'header section too large' };
    if (this.#fields.length >= this.#limits.maxHeaderFields) return { code: 'ISO_ERR_HTTP_HEADERS_TOO_LARGE', reason: 'too many header fields' };
    const f = parseFieldLine(line);
    if ('code' in f) return f;
    this.#fields.push([f.name, f.value]);
    return this.#onField === null ? null : this.#onField.check(f.name, f.value);
  }
}
