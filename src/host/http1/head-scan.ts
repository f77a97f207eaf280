// Byte scanners of the head parser: complete well-formed lines located by offsets (the fast path), and partial lines checked as they arrive.

import type { HttpFault } from './head-types.js';
import { COLON, CR, FIELD_VCHAR, LF, OWS, PATH_CHAR, QUERY_CHAR, SP, TARGET_CHAR, TCHAR } from './chars.js';

/** Slots per line in a marks array: see {@link scanRequestLine} and {@link scanFieldLine}. */
export const MARK_SLOTS = 5;

/**
 * RFC 9112 §3: `request-line = method SP request-target SP HTTP-version` with `method = token`
 * (RFC 9110 §9.1, `tchar`), a request-target of VCHARs (§3.2) and `HTTP/1.` DIGIT (§2.3; a minor
 * version above 1 is processed as 1.1, RFC 9110 §2.5), then CRLF. Only such a line, complete in
 * `buf[p, end)`, is taken: then its offsets go to `marks[0..4]` (start, first SP, second SP, minor
 * version digit 0-9, CR) and the LF's offset is returned. Anything else (incomplete, malformed,
 * HTTP/0.9, another major version) returns -1 and is left to the line-by-line parser, which decides it exactly.
 *
 * `origin[0]` tells what the scan saw of the target: an origin-form of RFC 3986 path characters
 * (PATH_CHAR, QUERY_CHAR after a "?") without any "%" is known valid here, and its parts with it:
 * {@link PLAIN_PATH} (no "?") or the "?"'s offset. {@link CHECK_TARGET}: uri.ts must judge it.
 */
export function scanRequestLine(buf: Uint8Array, p: number, end: number, marks: Int32Array, origin: Int32Array): number {
  const tchar = TCHAR;
  const target = TARGET_CHAR;
  let i = p;
  while (i < end && tchar[buf[i] as number] === 1) i++;
  if (i === p || i >= end || buf[i] !== SP) return -1;
  const sp1 = i++;
  let q = CHECK_TARGET;
  if (buf[i] === SLASH) {
    const path = PATH_CHAR;
    while (i + 4 <= end && all4(path, buf, i)) i += 4;
    while (i < end && path[buf[i] as number] === 1) i++;
    let at = PLAIN_PATH;
    if (buf[i] === QMARK) {
      const query = QUERY_CHAR;
      at = i++;
      while (i + 4 <= end && all4(query, buf, i)) i += 4;
      while (i < end && query[buf[i] as number] === 1) i++;
    }
    if (buf[i] === SP) q = at;
  }
  // The rest of a target uri.ts will judge (none, when the scan above reached the SP).
  while (i + 4 <= end && all4(target, buf, i)) i += 4;
  while (i < end && target[buf[i] as number] === 1) i++;
  if (i === sp1 + 1 || i >= end || buf[i] !== SP) return -1;
  const sp2 = i++;
  // "HTTP/1." DIGIT CR LF
  if (i + 9 >= end) return -1;
  if (buf[i] !== 0x48 || buf[i + 1] !== 0x54 || buf[i + 2] !== 0x54 || buf[i + 3] !== 0x50 || buf[i + 4] !== 0x2f || buf[i + 5] !== 0x31 || buf[i + 6] !== 0x2e) return -1;
  const minor = buf[i + 7] as number;
  if (minor < 0x30 || minor > 0x39 || buf[i + 8] !== CR || buf[i + 9] !== LF) return -1;
  marks[0] = p;
  marks[1] = sp1;
  marks[2] = sp2;
  marks[3] = minor - 0x30;
  marks[4] = i + 8;
  origin[0] = q;
  return i + 9;
}

/** {@link scanRequestLine}: the target is an origin-form path of plain characters, without a query. */
export const PLAIN_PATH = -1;
/** {@link scanRequestLine}: the target's grammar is left to uri.ts. */
export const CHECK_TARGET = -2;

const SLASH = 0x2f;
const QMARK = 0x3f;

/**
 * RFC 9112 §5: `field-line = field-name ":" OWS field-value OWS` then CRLF, with `field-name = token`
 * (RFC 9110 §5.1) and value bytes of `field-vchar / SP / HTAB` (§5.5: VCHAR, obs-text, SP, HTAB; no CTL
 * and no DEL, so no CR or LF either). Only such a line, complete in `buf[p, end)`, is taken: then
 * `marks[o..o+4]` get its start, colon, value start and end (OWS trimmed) and CR, and the LF's
 * offset is returned. Anything else returns -1 and is left to the line-by-line parser.
 */
export function scanFieldLine(buf: Uint8Array, words: WordView, p: number, end: number, marks: Int32Array, o: number): number {
  const tchar = TCHAR;
  const vchar = FIELD_VCHAR;
  let i = p;
  // Four bytes a step while all four are in the class (the tables hold 0 or 1), then one at a time.
  while (i + 4 <= end && all4(tchar, buf, i)) i += 4;
  while (i < end && tchar[buf[i] as number] === 1) i++;
  if (i === p || i >= end || buf[i] !== COLON) return -1;
  const colon = i++;
  let steps = 0;
  while (i + 4 <= end && all4(vchar, buf, i)) {
    i += 4;
    // A long value goes on eight bytes a step.
    if (++steps === LONG_VALUE_STEPS) i = skipWords(words.of(buf), i, end);
  }
  while (i < end && vchar[buf[i] as number] === 1) i++;
  if (i + 1 >= end || buf[i] !== CR || buf[i + 1] !== LF) return -1;
  let vs = colon + 1;
  let ve = i;
  while (vs < ve && OWS[buf[vs] as number] === 1) vs++;
  while (ve > vs && OWS[buf[ve - 1] as number] === 1) ve--;
  marks[o] = p;
  marks[o + 1] = colon;
  marks[o + 2] = vs;
  marks[o + 3] = ve;
  marks[o + 4] = i;
  return i + 1;
}

/** Four-byte steps after which a value counts as long. */
const LONG_VALUE_STEPS = 3;

/** A DataView of the buffer being scanned, made when a long value first needs one and kept for that buffer. */
export class WordView {
  #of: Uint8Array | null = null;
  #view: DataView | null = null;

  /** The view of `buf`. */
  of(buf: Uint8Array): DataView {
    if (this.#of !== buf || this.#view === null) {
      this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      this.#of = buf;
    }
    return this.#view;
  }

  /** Lets go of the buffer. */
  release(): void {
    this.#of = null;
    this.#view = null;
  }
}

/**
 * Skips field-value bytes from `i`, eight a step while none is below SP (a CTL, HTAB included) or
 * DEL: then all are VCHAR or obs-text, so field-vchar (RFC 9110 §5.5). The word tests are the exact
 * "has a byte less than n" and "has a zero byte" bit tricks. Returns where a step failed or fewer
 * than eight bytes are left; the caller looks at the bytes from there one by one.
 */
function skipWords(view: DataView, i: number, end: number): number {
  while (i + 8 <= end) {
    const w = view.getInt32(i, true);
    const v = view.getInt32(i + 4, true);
    const wd = w ^ 0x7f7f7f7f;
    const vd = v ^ 0x7f7f7f7f;
    if ((((w - 0x20202020) & ~w) | ((v - 0x20202020) & ~v) | ((wd - 0x01010101) & ~wd) | ((vd - 0x01010101) & ~vd)) & 0x80808080) break;
    i += 8;
  }
  return i;
}

/** Whether `buf[i, i + 4)` are all in `cls`. */
function all4(cls: Uint8Array, buf: Uint8Array, i: number): boolean {
  return ((cls[buf[i] as number] as number) & (cls[buf[i + 1] as number] as number) & (cls[buf[i + 2] as number] as number) & (cls[buf[i + 3] as number] as number)) === 1;
}

const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"

/**
 * Checks the bytes of an incomplete line as they arrive, so a bad one is refused at once. Only
 * prefixes are judged here; the complete line is parsed (and checked fully) when it ends.
 */
export class PartialScan {
  /** Bytes of the current, incomplete line already checked. */
  #scanned = 0;
  /** Offset of the version in the current request line, and its major digit. */
  #versionAt = -1;
  #major = 0;
  /** Where the scan is in the current line: request line 0 method, 1 target, 2 version; field line 0 name, 1 value. */
  #phase = 0;

  /** A line ended: the next bytes start a new one. */
  reset(): void {
    this.#scanned = 0;
    this.#phase = 0;
  }

  /** Checks the new bytes `buf[from, to)` of an incomplete request line (`requestLine`) or field line. */
  scan(buf: Uint8Array, from: number, to: number, requestLine: boolean): HttpFault | null {
    for (let i = from; i < to; i++, this.#scanned++) {
      const c = buf[i] as number;
      if (c === CR) continue; // placement of CR is checked by the caller
      if (requestLine) {
        if (this.#phase === 0) {
          // RFC 9110 §9.1: `method = token`
          if (c === SP) {
            if (this.#scanned === 0) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request line' };
            this.#phase = 1;
          } else if (TCHAR[c] !== 1) {
            return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid method' };
          }
        } else if (this.#phase === 1) {
          // RFC 9112 §3.2: request-target bytes are VCHAR
          if (c === SP) {
            this.#phase = 2;
            this.#versionAt = this.#scanned + 1;
          } else if (TARGET_CHAR[c] !== 1) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request target' };
        } else {
          // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT
          const k = this.#scanned - this.#versionAt;
          const ok = k < 5 ? c === HTTP_SLASH[k] : k === 5 || k === 7 ? c >= 0x30 && c <= 0x39 : k === 6 && c === 0x2e;
          if (!ok || k > 7) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid HTTP version' };
          if (k === 5) this.#major = c;
          // A well-formed version of another major than 1 is refused without waiting for the end of the line.
          if (k === 7 && this.#major !== 0x31) {
            return { code: 'ISO_ERR_HTTP_VERSION_NOT_SUPPORTED', reason: 'HTTP version not supported' };
          }
        }
      } else if (this.#phase === 0) {
        // RFC 9110 §5.1: `field-name = token`, then ":"; RFC 9112 §5.2: no obs-fold
        if (c === 0x3a && this.#scanned > 0) this.#phase = 1;
        else if (TCHAR[c] !== 1) {
          return this.#scanned === 0 && OWS[c] === 1
            ? { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'obsolete line folding' }
            : { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid header field name' };
        }
      } else if (FIELD_VCHAR[c] !== 1) {
        // RFC 9110 §5.5: field-vchar / SP / HTAB
        return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid character in header field value' };
      }
    }
    return null;
  }
}
