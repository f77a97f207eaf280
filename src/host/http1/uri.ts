// The URI grammar of a request head (RFC 3986, as RFC 9112 §3.2 and RFC 9110 §7.2 use it): the request-target's forms and the Host field's value.

import { IPVFUTURE_CHAR, isHexDigit, PATH_CHAR, QUERY_CHAR, REG_NAME_CHAR } from './chars.js';
import type { HttpFault } from './head-types.js';

/**
 * Slots of the offsets {@link scanTarget} writes: authority start and end (-1 when the target has
 * none), path start, path end (where the "?" is, or the target's length).
 */
export const TARGET_SLOTS = 4;

const SLASH = 0x2f;
const QMARK = 0x3f;
const HASH = 0x23;
const PERCENT = 0x25;
const COLON = 0x3a;
const DOT = 0x2e;

function bad(reason: string): HttpFault {
  return Object.freeze({ code: 'ISO_ERR_HTTP_BAD_REQUEST', reason });
}

const TARGET_CHAR_FAULT = bad('invalid character in request target');
const TARGET_PCT_FAULT = bad('malformed percent-encoding in request target');
const FRAGMENT_FAULT = bad('fragment in request target');
const FORM_FAULT = bad('unsupported request-target form');
const SCHEME_FAULT = bad('absolute-form target is not an http or https URI');

/** The faults of an authority, worded for where it stands (the Host field, or an absolute-form target). */
interface AuthorityFaults {
  readonly empty: HttpFault;
  readonly list: HttpFault;
  readonly userinfo: HttpFault;
  readonly space: HttpFault;
  readonly path: HttpFault;
  readonly nonAscii: HttpFault;
  readonly pct: HttpFault;
  readonly char: HttpFault;
  readonly ipLiteral: HttpFault;
  readonly port: HttpFault;
}

function authorityFaults(what: string): AuthorityFaults {
  return {
    empty: bad(`invalid ${what}: empty host`),
    list: bad(`invalid ${what}: a list of values`),
    userinfo: bad(`invalid ${what}: userinfo`),
    space: bad(`invalid ${what}: whitespace`),
    path: bad(`invalid ${what}: a path`),
    nonAscii: bad(`invalid ${what}: non-ASCII byte`),
    pct: bad(`invalid ${what}: malformed percent-encoding`),
    char: bad(`invalid ${what}: invalid character`),
    ipLiteral: bad(`invalid ${what}: malformed IP literal`),
    port: bad(`invalid ${what}: invalid port`),
  };
}

const HOST_FAULTS = authorityFaults('Host');
const TARGET_FAULTS = authorityFaults('request-target authority');

/** Why an authority stopped at `c`, a byte no rule of it takes there. */
function stoppedAt(c: number, f: AuthorityFaults): HttpFault {
  if (c === 0x2c) return f.list;
  if (c === 0x40) return f.userinfo;
  if (c === 0x20 || c === 0x09) return f.space;
  if (c === SLASH || c === QMARK || c === HASH) return f.path;
  if (c >= 0x80) return f.nonAscii;
  return c === PERCENT ? f.pct : f.char;
}

/** RFC 3986 §3.2.2: `dec-octet "." dec-octet "." dec-octet "." dec-octet`, dec-octet 0-255 without leading zeros. */
function isIPv4(s: string, from: number, to: number): boolean {
  let i = from;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (i >= to || s.charCodeAt(i) !== DOT) return false;
      i++;
    }
    const start = i;
    let value = 0;
    while (i < to && i - start < 3) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      value = value * 10 + c - 0x30;
      i++;
    }
    if (i === start || value > 255 || (i - start > 1 && s.charCodeAt(start) === 0x30)) return false;
  }
  return i === to;
}

/**
 * RFC 3986 §3.2.2 `IPv6address`: eight `h16` (1*4HEXDIG) separated by ":", the last two possibly an
 * IPv4address (`ls32`), or fewer with one "::" standing for the missing ones.
 */
function isIPv6(s: string, from: number, to: number): boolean {
  let groups = 0;
  let compressed = false;
  let i = from;
  if (i < to && s.charCodeAt(i) === COLON) {
    if (s.charCodeAt(i + 1) !== COLON) return false;
    compressed = true;
    i += 2;
    if (i === to) return true;
  }
  for (;;) {
    let j = i;
    while (j < to && j - i < 5 && isHexDigit(s.charCodeAt(j))) j++;
    if (j < to && s.charCodeAt(j) === DOT) {
      // ls32 as an IPv4address: the last part, worth two groups.
      if (!isIPv4(s, i, to)) return false;
      groups += 2;
      break;
    }
    if (j === i || j - i > 4) return false;
    groups++;
    if (j === to) break;
    if (s.charCodeAt(j) !== COLON) return false;
    if (s.charCodeAt(j + 1) === COLON) {
      if (compressed) return false;
      compressed = true;
      i = j + 2;
      if (i === to) break;
    } else {
      i = j + 1;
      if (i === to) return false;
    }
  }
  return compressed ? groups <= 7 : groups === 8;
}

/** RFC 3986 §3.2.2: `IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )` ("v" in any case). */
function isIPvFuture(s: string, from: number, to: number): boolean {
  if ((s.charCodeAt(from) | 0x20) !== 0x76) return false;
  let i = from + 1;
  while (i < to && isHexDigit(s.charCodeAt(i))) i++;
  if (i === from + 1 || i >= to || s.charCodeAt(i) !== DOT) return false;
  if (++i === to) return false;
  for (; i < to; i++) if (IPVFUTURE_CHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/**
 * RFC 3986 §3.2.2, §3.2.3 (RFC 9110 §7.2 `Host = uri-host [ ":" port ]`): `s[from, to)` as
 * `host [ ":" port ]`, host an IP-literal (`[` IPv6address or IPvFuture `]`) or a non-empty reg-name
 * (IPv4 addresses are reg-names too), port at most 65535. No userinfo (RFC 9110 §4.2.4), no list, no
 * whitespace, no path, ASCII only. Returns why it is refused, or null.
 */
function scanAuthority(s: string, from: number, to: number, f: AuthorityFaults): HttpFault | null {
  const fault = checkAuthority(s, from, to, f);
  // A refused authority with an "@" anywhere carries userinfo: say so, whatever stopped the scan first.
  return fault !== null && s.lastIndexOf('@', to - 1) >= from ? f.userinfo : fault;
}

function checkAuthority(s: string, from: number, to: number, f: AuthorityFaults): HttpFault | null {
  let i = from;
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close === -1 || close >= to) return f.ipLiteral;
    const v = (s.charCodeAt(i + 1) | 0x20) === 0x76;
    if (!(v ? isIPvFuture(s, i + 1, close) : isIPv6(s, i + 1, close))) return f.ipLiteral;
    i = close + 1;
  } else {
    for (; i < to; i++) {
      const c = s.charCodeAt(i);
      if (REG_NAME_CHAR[c] === 1) continue;
      if (c !== PERCENT) break;
      if (!isHexDigit(s.charCodeAt(i + 1)) || !isHexDigit(s.charCodeAt(i + 2)) || i + 2 >= to) return f.pct;
      i += 2;
    }
    if (i === from) return i < to && s.charCodeAt(i) !== COLON ? stoppedAt(s.charCodeAt(i), f) : f.empty;
  }
  if (i === to) return null;
  if (s.charCodeAt(i) !== COLON) return stoppedAt(s.charCodeAt(i), f);
  // RFC 3986 §3.2.3: `port = *DIGIT` (empty allowed), here at most 65535, a TCP port.
  let port = 0;
  for (i++; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return c === 0x3a || c === 0x5b || c === 0x5d || REG_NAME_CHAR[c] === 1 ? f.port : stoppedAt(c, f);
    port = port * 10 + c - 0x30;
    if (port > 65535) return f.port;
  }
  return null;
}

/**
 * RFC 9110 §7.2: the Host field's value, `uri-host [ ":" port ]` (see {@link scanAuthority}). An
 * empty value is allowed: RFC 9112 §3.2 has a client send it when the target URI has no authority;
 * the target then carries none (RFC 9112 §3.3 leaves the server its default, as for HTTP/1.0 without Host).
 */
export function checkHost(value: string): HttpFault | null {
  return value.length === 0 ? null : scanAuthority(value, 0, value.length, HOST_FAULTS);
}

/** RFC 3986 §3.3, §3.4: `t[from..]` as `path [ "?" query ]`; writes the path's end to `out[3]`. */
function scanPathQuery(t: string, from: number, out: Int32Array): HttpFault | null {
  const n = t.length;
  let cls = PATH_CHAR;
  let q = n;
  for (let i = from; i < n; i++) {
    const c = t.charCodeAt(i);
    if (cls[c] === 1) continue;
    if (c === PERCENT) {
      // RFC 3986 §2.1: `pct-encoded = "%" HEXDIG HEXDIG`
      if (!isHexDigit(t.charCodeAt(i + 1)) || !isHexDigit(t.charCodeAt(i + 2))) return TARGET_PCT_FAULT;
      i += 2;
    } else if (c === QMARK && q === n) {
      q = i;
      cls = QUERY_CHAR;
    } else {
      // RFC 9112 §3.2: the fragment is not sent; "\" and the other VCHARs outside the classes are not URI characters.
      return c === HASH ? FRAGMENT_FAULT : TARGET_CHAR_FAULT;
    }
  }
  out[3] = q;
  return null;
}

/** RFC 3986 §3.1 `scheme ":"`, the scheme `http` or `https` in any case (RFC 9110 §4.2). */
function isHttpScheme(t: string, colon: number): boolean {
  if (colon !== 4 && colon !== 5) return false;
  if ((t.charCodeAt(0) | 0x20) !== 0x68 || (t.charCodeAt(1) | 0x20) !== 0x74 || (t.charCodeAt(2) | 0x20) !== 0x74 || (t.charCodeAt(3) | 0x20) !== 0x70) return false;
  return colon === 4 || (t.charCodeAt(4) | 0x20) === 0x73;
}

/**
 * RFC 9112 §3.2: the forms of a request-target (a string of VCHARs), each with the RFC 3986 grammar:
 * - origin-form `absolute-path [ "?" query ]`;
 * - absolute-form, an `http` or `https` URI (RFC 9110 §4.2): `scheme "://" authority path-abempty
 *   [ "?" query ]`, the authority a non-empty host and optional port, no userinfo (§4.2.4);
 * - asterisk-form `*` (the method is framing's to judge).
 * authority-form (CONNECT's `host:port`) and URIs of other schemes are refused: no tunnels or proxying
 * are offered. Writes the parts' offsets to `out` ({@link TARGET_SLOTS}); returns why it is refused, or null.
 */
export function scanTarget(t: string, out: Int32Array): HttpFault | null {
  out[0] = -1;
  out[1] = -1;
  out[2] = 0;
  const c0 = t.charCodeAt(0);
  if (c0 === SLASH) return scanPathQuery(t, 0, out);
  if (c0 === 0x2a && t.length === 1) {
    out[3] = 1;
    return null;
  }
  const colon = t.indexOf(':');
  // RFC 3986 §3.3 `hier-part = "//" authority path-abempty / ...`: only the "//" form has an authority.
  if (colon <= 0 || t.charCodeAt(colon + 1) !== SLASH || t.charCodeAt(colon + 2) !== SLASH) return FORM_FAULT;
  if (!isHttpScheme(t, colon)) return SCHEME_FAULT;
  const start = colon + 3;
  let end = start;
  while (end < t.length) {
    const c = t.charCodeAt(end);
    if (c === SLASH || c === QMARK || c === HASH) break;
    end++;
  }
  // RFC 9110 §4.2.1: an http URI with an empty host is invalid and MUST be rejected.
  const f = end === start ? TARGET_FAULTS.empty : scanAuthority(t, start, end, TARGET_FAULTS);
  if (f !== null) return f;
  out[0] = start;
  out[1] = end;
  out[2] = end;
  return scanPathQuery(t, end, out);
}

/** A request-target's parts (see `RequestHead`). */
export interface TargetParts {
  readonly path: string;
  readonly query: string | null;
  readonly authority: string | null;
}

const targetMarks = new Int32Array(TARGET_SLOTS);

/** The parts of the request-target `t` ({@link scanTarget}), or why its grammar refuses it. */
export function parseTarget(t: string): TargetParts | HttpFault {
  const o = targetMarks;
  const f = scanTarget(t, o);
  if (f !== null) return f;
  const a = o[0] as number;
  const ps = o[2] as number;
  const pe = o[3] as number;
  return {
    // RFC 3986 §6.2.3: the empty path of an http URI is "/".
    path: ps === pe ? '/' : ps === 0 && pe === t.length ? t : t.substring(ps, pe),
    query: pe === t.length ? null : t.substring(pe + 1),
    authority: a < 0 ? null : t.substring(a, o[1]),
  };
}
