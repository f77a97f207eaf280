// Incremental decoder of the chunked transfer coding (RFC 9112 §7.1), strict and bounded while bytes arrive.

import type { Limits } from '../../core/limits.js';
import { CR, HEX_VALUE, LF, TCHAR } from './chars.js';
import type { HttpFault } from './head-types.js';

/** Where a chunked decoder reports chunk data: offsets into the buffer it was fed. */
export interface ChunkSink {
  data(buf: Buffer, from: number, to: number): void;
}

/**
 * Limits the decoder enforces (declared in schemas/limits.json): `maxBodyBytes` for the decoded
 * body (413 beyond), `maxHeaderBytes` and `maxHeaderFields` for the trailer section (431 beyond).
 */
export type ChunkedLimits = Pick<Limits, 'maxBodyBytes' | 'maxHeaderBytes' | 'maxHeaderFields'>;

/** Longest chunk-ext run allowed on one chunk line, bytes. */
export const MAX_CHUNK_EXT_BYTES = 1024;
/** 2^53 − 1 has 14 hex digits; a longer chunk-size is an overflow (leading zeros included: `000` is fine, 15 zeros is not). */
const MAX_SIZE_DIGITS = 14;

/** {@link ChunkedDecoder.push}: the body needs more bytes. */
export const CHUNKED_MORE = -1;
/** {@link ChunkedDecoder.push}: the body is refused; {@link ChunkedDecoder.fault} says why. */
export const CHUNKED_FAULT = -2;

/** A fault, or null to go on (internal to a push). */
type Step = HttpFault | null;

const enum S {
  Size,
  SizeLF,
  Ext,
  ExtQuoted,
  ExtQuotedEscape,
  Data,
  DataCR,
  DataLF,
  Trailer,
  TrailerLF,
}

const bad = (reason: string): HttpFault => ({ code: 'ISO_ERR_HTTP_BAD_REQUEST', reason });

/**
 * ```
 * chunked-body = *chunk last-chunk trailer-section CRLF
 * chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * chunk-size   = 1*HEXDIG
 * last-chunk   = 1*("0") [ chunk-ext ] CRLF
 * chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * chunk-ext-val = token / quoted-string
 * ```
 * Stricter than the ABNF where it is ambiguous, as llhttp's strict mode: no whitespace in a
 * chunk line (BWS is refused), bare CR or LF is refused, `;` must be followed by a name.
 * Chunk data is handed to the sink as it arrives, as offsets into the input (copy to keep).
 * After `done` or a fault, call {@link reset} before the next body.
 */
export class ChunkedDecoder {
  #limits: ChunkedLimits;
  readonly #sink: ChunkSink;
  #state: S = S.Size;
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #total = 0;
  #extBytes = 0;
  /** In an extension: 0 expecting a name, 1 in a name, 2 after '=', 3 in a token value, 4 after a quoted value. */
  #extPart = 0;
  #trailerLine = 0;
  #trailerBytes = 0;
  #trailerFields = 0;
  #trailerColon = false;
  #fault: HttpFault | null = null;

  constructor(limits: ChunkedLimits, sink: ChunkSink) {
    this.#limits = limits;
    this.#sink = sink;
  }

  /** Decodes the next bodies under `limits` (a connection of a shared address, once routed to its server). */
  useLimits(limits: ChunkedLimits): void {
    this.#limits = limits;
  }

  /** Total decoded body bytes so far. */
  get total(): number {
    return this.#total;
  }

  /** Why the body was refused, after {@link push} returned {@link CHUNKED_FAULT}. */
  get fault(): HttpFault | null {
    return this.#fault;
  }

  /** Ready for the next body. */
  reset(): void {
    this.#state = S.Size;
    this.#size = 0;
    this.#digits = 0;
    this.#remaining = 0;
    this.#total = 0;
    this.#extBytes = 0;
    this.#extPart = 0;
    this.#trailerLine = 0;
    this.#trailerBytes = 0;
    this.#trailerFields = 0;
    this.#trailerColon = false;
    this.#fault = null;
  }

  /**
   * Feeds `buf[start..]`. Returns the offset just past the body once it is complete (where the
   * next request starts), or {@link CHUNKED_MORE}, or {@link CHUNKED_FAULT}.
   */
  push(buf: Buffer, start: number): number {
    let i = start;
    const n = buf.length;
    while (i < n) {
      switch (this.#state) {
        case S.Data: {
          const take = Math.min(this.#remaining, n - i);
          this.#sink.data(buf, i, i + take);
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#state = S.DataCR;
          continue;
        }
        case S.DataCR:
          if (buf[i] !== CR) return this.#refuse(bad('chunk data not followed by CRLF'));
          this.#state = S.DataLF;
          break;
        case S.DataLF:
          if (buf[i] !== LF) return this.#refuse(bad('chunk data not followed by CRLF'));
          this.#state = S.Size;
          this.#size = 0;
          this.#digits = 0;
          this.#extBytes = 0;
          break;
        case S.Size: {
          const c = buf[i] as number;
          const v = HEX_VALUE[c] as number;
          if (v >= 0) {
            if (++this.#digits > MAX_SIZE_DIGITS) return this.#refuse(bad('chunk size too large'));
            this.#size = this.#size * 16 + v;
            if (this.#size > Number.MAX_SAFE_INTEGER) return this.#refuse(bad('chunk size too large'));
          } else if (this.#digits === 0) {
            return this.#refuse(bad('invalid chunk size'));
          } else if (c === CR) {
            this.#state = S.SizeLF;
          } else if (c === 0x3b /* ; */) {
            this.#state = S.Ext;
            this.#extPart = 0;
          } else {
            return this.#refuse(bad('invalid character after chunk size'));
          }
          break;
        }
        case S.Ext:
        case S.ExtQuoted:
        case S.ExtQuotedEscape: {
          if (++this.#extBytes > MAX_CHUNK_EXT_BYTES) return this.#refuse(bad('chunk extensions too long'));
          const r = this.#ext(buf[i] as number);
          if (r !== null) return this.#refuse(r);
          break;
        }
        case S.SizeLF: {
          if (buf[i] !== LF) return this.#refuse(bad('chunk size not followed by CRLF'));
          if (this.#size > this.#limits.maxBodyBytes - this.#total) {
            return this.#refuse({ code: 'ISO_ERR_HTTP_BODY_TOO_LARGE', reason: `request body larger than ${this.#limits.maxBodyBytes} bytes` });
          }
          this.#total += this.#size;
          if (this.#size === 0) {
            this.#state = S.Trailer;
            this.#trailerLine = 0;
            this.#trailerColon = false;
          } else {
            this.#remaining = this.#size;
            this.#state = S.Data;
          }
          break;
        }
        case S.Trailer: {
          const r = this.#trailer(buf[i] as number);
          if (r !== null) return this.#refuse(r);
          break;
        }
        case S.TrailerLF: {
          if (buf[i] !== LF) return this.#refuse(bad('trailer line not ended by CRLF'));
          if (this.#trailerLine === 0) return i + 1;
          this.#state = S.Trailer;
          this.#trailerLine = 0;
          this.#trailerColon = false;
          break;
        }
      }
      i++;
    }
    return CHUNKED_MORE;
  }

  #refuse(f: HttpFault): number {
    this.#fault = f;
    return CHUNKED_FAULT;
  }

  /** One byte of chunk-ext (after the size's first `;`). */
  #ext(c: number): Step {
    if (this.#state === S.ExtQuotedEscape) {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      if (c !== 0x09 && c < 0x20) return bad('invalid character in chunk extension');
      this.#state = S.ExtQuoted;
      return null;
    }
    if (this.#state === S.ExtQuoted) {
      if (c === 0x22) {
        this.#state = S.Ext;
        this.#extPart = 4;
      } else if (c === 0x5c) this.#state = S.ExtQuotedEscape;
      // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
      else if (c !== 0x09 && (c < 0x20 || c === 0x7f)) return bad('invalid character in chunk extension quoted value');
      return null;
    }
    if (TCHAR[c] === 1) {
      if (this.#extPart === 0) this.#extPart = 1;
      else if (this.#extPart === 2) this.#extPart = 3;
      else if (this.#extPart === 4) return bad('invalid character after chunk extension value');
      return null;
    }
    if (c === 0x3d /* = */ && this.#extPart === 1) {
      this.#extPart = 2;
      return null;
    }
    if (c === 0x22 && this.#extPart === 2) {
      this.#state = S.ExtQuoted;
      return null;
    }
    if (c === 0x3b && (this.#extPart === 1 || this.#extPart === 3 || this.#extPart === 4)) {
      this.#extPart = 0;
      return null;
    }
    if (c === CR && (this.#extPart === 1 || this.#extPart === 3 || this.#extPart === 4)) {
      this.#state = S.SizeLF;
      return null;
    }
    return bad('invalid chunk extension');
  }

  /** One byte of the trailer section (field lines, then the final CRLF), within the header limits. */
  #trailer(c: number): Step {
    if (c === CR) {
      this.#state = S.TrailerLF;
      if (this.#trailerLine > 0 && !this.#trailerColon) return bad('invalid trailer field');
      if (this.#trailerLine > 0 && ++this.#trailerFields > this.#limits.maxHeaderFields) {
        return { code: 'ISO_ERR_HTTP_HEADERS_TOO_LARGE', reason: 'too many trailer fields' };
      }
      return null;
    }
    if (++this.#trailerBytes > this.#limits.maxHeaderBytes) {
      return { code: 'ISO_ERR_HTTP_HEADERS_TOO_LARGE', reason: 'trailer section too large' };
    }
    if (!this.#trailerColon) {
      // field-name = token, then ":" right after it
      if (c === 0x3a && this.#trailerLine > 0) this.#trailerColon = true;
      else if (TCHAR[c] !== 1) return bad('invalid trailer field name');
    } else if (!(c === 0x09 || (c >= 0x20 && c !== 0x7f))) {
      return bad('invalid character in trailer field value');
    }
    this.#trailerLine++;
    return null;
  }
}
