// The exact grammar of one complete request line or field line, for the lines the head parser's fast path leaves to it.

import { allIn, COLON, FIELD_VCHAR, OWS, SP, TARGET_CHAR, TCHAR } from './chars.js';
import type { HttpFault } from './head-types.js';

/** A request line's parts. */
export interface RequestLine {
  readonly method: string;
  readonly target: string;
  readonly version: '0.9' | '1.0' | '1.1';
}

/** A field line's parts (the value trimmed of OWS). */
export interface FieldLine {
  readonly name: string;
  readonly value: string;
}

/**
 * RFC 9112 §3: 414 when the method ended within the limit (so it is the target that runs on),
 * else 400. Decided on the bytes alone, so any split of the input gets the same answer.
 */
export function lineTooLong(bytes: Buffer, maxRequestLineBytes: number): HttpFault {
  const sp = bytes.indexOf(SP);
  return sp > 0 && sp < maxRequestLineBytes ? { code: 'ISO_ERR_HTTP_URI_TOO_LONG', reason: 'request target too long' } : { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'request line too long' };
}

/**
 * RFC 9112 §3: `request-line = method SP request-target SP HTTP-version` (without its CRLF).
 * Returns its parts, null for an empty line (to be ignored), or why it is refused.
 */
export function parseRequestLine(line: Buffer, maxRequestLineBytes: number, allow09: boolean): RequestLine | HttpFault | null {
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line received before the request-line.
  if (line.length === 0) return null;
  if (line.length > maxRequestLineBytes) return lineTooLong(line, maxRequestLineBytes);
  const sp1 = line.indexOf(SP);
  // RFC 9110 §9.1: `method = token`
  if (sp1 <= 0 || !allIn(TCHAR, line, 0, sp1)) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid method' };
  const sp2 = line.indexOf(SP, sp1 + 1);
  if (sp2 === -1 && sp1 + 1 < line.length && allow09) {
    // HTTP/0.9 (RFC 1945 §4.1): `Simple-Request = "GET" SP Request-URI CRLF`: no version, no headers.
    if (!allIn(TARGET_CHAR, line, sp1 + 1, line.length)) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request target' };
    if (line.toString('latin1', 0, sp1) !== 'GET') return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request line' };
    return { method: 'GET', target: line.toString('latin1', sp1 + 1), version: '0.9' };
  }
  if (sp2 === -1 || sp2 === sp1 + 1) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request line' };
  // RFC 9112 §3.2: the request-target is made of VCHARs
  if (!allIn(TARGET_CHAR, line, sp1 + 1, sp2)) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request target' };
  const v = line.toString('latin1', sp2 + 1);
  // RFC 9112 §2.3: `HTTP-version = HTTP-name "/" DIGIT "." DIGIT`, case-sensitive.
  // RFC 9110 §2.5: a higher minor version of HTTP/1 is processed as the highest one supported, 1.1;
  // another major version is not supported (505).
  if (!/^HTTP\/[0-9]\.[0-9]$/.test(v)) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid HTTP version' };
  if (v.charCodeAt(5) !== 0x31) return { code: 'ISO_ERR_HTTP_VERSION_NOT_SUPPORTED', reason: 'HTTP version not supported' };
  const version = v.charCodeAt(7) === 0x30 ? '1.0' : '1.1';
  return { method: line.toString('latin1', 0, sp1), target: line.toString('latin1', sp1 + 1, sp2), version };
}

/**
 * RFC 9112 §5: `field-line = field-name ":" OWS field-value OWS` (a non-empty line without its
 * CRLF). Only the grammar: the caller checks the limits first. Returns its parts or why it is refused.
 */
export function parseFieldLine(line: Buffer): FieldLine | HttpFault {
  // RFC 9112 §5.2: obs-fold (a line starting with SP or HTAB) is rejected.
  if (OWS[line[0] as number] === 1) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'obsolete line folding' };
  const colon = line.indexOf(COLON);
  // RFC 9112 §5.1: no whitespace is allowed between the field name and colon: the name must be a token.
  if (colon <= 0 || !allIn(TCHAR, line, 0, colon)) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid header field name' };
  let vs = colon + 1;
  let ve = line.length;
  while (vs < ve && OWS[line[vs] as number] === 1) vs++;
  while (ve > vs && OWS[line[ve - 1] as number] === 1) ve--;
  // RFC 9110 §5.5: field-vchar / SP / HTAB
  if (!allIn(FIELD_VCHAR, line, vs, ve)) return { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid character in header field value' };
  return { name: line.toString('latin1', 0, colon), value: line.toString('latin1', vs, ve) };
}
