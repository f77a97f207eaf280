// Builds the plain request dict a handler receives (all but `datastream`, which the sandbox adds over the body).

import type { HttpVersion } from '../../core/response.js';
import type { RequestHead } from '../http1/head-parser.js';

/** The request dict as it crosses into the isolate (JSON-safe; `datastream` is added inside). */
export interface RequestData {
  verb: string;
  path: string;
  querystr: string | null;
  querydict: Record<string, string | null>;
  version: HttpVersion;
  headers: Record<string, string>;
  httpdid: number;
  remoteipstr: string;
  remoteportnum: number;
}

const HEX = /^[0-9A-Fa-f]{2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Percent-decodes one query component, `+` as space. Malformed escapes stay as written and
 * invalid UTF-8 becomes U+FFFD (as Python's `parse_qs` with `errors="replace"`).
 */
export function decodeComponent(s: string): string {
  const plus = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!plus.includes('%')) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    const bytes: number[] = [];
    for (let i = 0; i < plus.length; i++) {
      const c = plus.charCodeAt(i);
      if (c === 0x25 && HEX.test(plus.slice(i + 1, i + 3))) {
        bytes.push(parseInt(plus.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (c < 0x80) {
        bytes.push(c);
      } else {
        bytes.push(...Buffer.from(plus[i] ?? '', 'utf8'));
      }
    }
    return utf8.decode(Uint8Array.from(bytes));
  }
}

/**
 * Splits a query string on `&`: `name=value` pairs are percent-decoded (`+` is a space), a name
 * without `=` maps to `null`, a repeated name keeps its last value, and empty names are skipped.
 * The result has no prototype, so names like `__proto__` are ordinary keys.
 */
export function parseQuery(querystr: string | null): Record<string, string | null> {
  const out: Record<string, string | null> = Object.create(null) as Record<string, string | null>;
  if (querystr === null || querystr === '') return out;
  for (const part of querystr.split('&')) {
    const eq = part.indexOf('=');
    const name = decodeComponent(eq === -1 ? part : part.slice(0, eq));
    if (name === '') continue;
    out[name] = eq === -1 ? null : decodeComponent(part.slice(eq + 1));
  }
  return out;
}

/**
 * Merges header fields: keyed by the first spelling of each name (case-insensitive match),
 * repeated fields joined with `", "` in arrival order. No prototype, as for the query.
 * A non-null `host` (an absolute-form target's authority) is the Host value, whatever the client
 * sent (RFC 9112 §3.2.2), under the client's spelling of the name, or `Host` when it sent none.
 */
export function mergeHeaders(fields: ReadonlyArray<readonly [string, string]>, host: string | null = null): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const spelling = new Map<string, string>();
  for (const [name, value] of fields) {
    const lower = name.toLowerCase();
    const key = spelling.get(lower);
    if (key === undefined) {
      spelling.set(lower, name);
      out[name] = value;
    } else {
      out[key] = `${out[key] ?? ''}, ${value}`;
    }
  }
  if (host !== null) out[spelling.get('host') ?? 'Host'] = host;
  return out;
}

/** Shows an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) as plain IPv4. */
export function plainRemoteIp(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The request dict for a parsed head, less `datastream`: `path` and `querystr` are the target's
 * (for absolute-form, the URI's path and query), and absolute-form's authority is the Host header.
 */
export function buildRequestData(head: RequestHead, httpdid: number, remoteAddress: string | undefined, remotePort: number | undefined): RequestData {
  const querystr = head.query;
  return {
    verb: head.method,
    path: head.path,
    querystr,
    querydict: parseQuery(querystr),
    version: head.version,
    headers: mergeHeaders(head.fields, head.authority),
    httpdid,
    remoteipstr: plainRemoteIp(remoteAddress),
    remoteportnum: remotePort ?? 0,
  };
}
