// Serializes responses (a handler's validated response dict, or a server-generated error) to HTTP/1.x bytes; framing is always the server's.

import { STATUS_CODES } from 'node:http';
import { ERRORS, type ErrorCode } from '../../core/errors.js';
import type { HttpVersion, ValidResponse } from '../../core/response.js';

/** What the writer needs to know of the request being answered. */
export interface RequestContext {
  readonly version: HttpVersion;
  readonly method: string;
  readonly keepAlive: boolean;
  /** The request's id, answered in `X-Request-Id` (src/host/worker/request-ids.ts). */
  readonly requestId?: string;
}

/** Bytes to write and whether the connection closes after them. */
export interface Serialized {
  readonly chunks: readonly Uint8Array[];
  readonly close: boolean;
}

/** RFC 9110 §15 names where Node's table still has the older RFC 7231 ones. */
const RFC9110_REASONS: Readonly<Record<number, string>> = { 413: 'Content Too Large', 422: 'Unprocessable Content' };

/** The standard reason phrase for a status code ('' for an unregistered one). */
export function reasonPhrase(status: number): string {
  return RFC9110_REASONS[status] ?? STATUS_CODES[status] ?? '';
}

/** Header names a handler may not set: framing, connection management and the request id belong to the server. */
const SERVER_OWNED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'proxy-connection', 'trailer', 'date', 'x-request-id']);

let dateSecond = -1;
let dateValue = '';
/** The IMF-fixdate for now, computed at most once a second. */
export function httpDate(): string {
  const now = Date.now();
  const sec = Math.floor(now / 1000);
  if (sec !== dateSecond) {
    dateSecond = sec;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

/** RFC 9110 §6.4.1: 1xx, 204 and 304 responses never have content. */
function bodyless(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/**
 * Frames a handler's response. The status line uses the response's version, lowered to 1.0 for a
 * 1.0 request; version "0.9" sends the body alone and closes. HEAD gets the headers a GET would
 * get, with its Content-Length, and no body.
 */
export function serializeResponse(res: ValidResponse, req: RequestContext): Serialized {
  if (res.version === '0.9' || req.version === '0.9') {
    return { chunks: req.method === 'HEAD' ? [] : [res.body], close: true };
  }
  const version = req.version === '1.0' ? '1.0' : res.version;
  // A 1xx as a final answer would leave the client waiting for another: close after it.
  const close = !req.keepAlive || res.statuscode < 200;
  let head = `HTTP/${version} ${res.statuscode} ${res.statusmsg ?? reasonPhrase(res.statuscode)}\r\nDate: ${httpDate()}\r\n`;
  if (req.requestId !== undefined) head += `X-Request-Id: ${req.requestId}\r\n`;
  for (const name of Object.keys(res.headers)) {
    if (SERVER_OWNED.has(name.toLowerCase())) continue;
    head += `${name}: ${String(res.headers[name])}\r\n`;
  }
  const noBody = bodyless(res.statuscode);
  if (!noBody) head += `Content-Length: ${res.body.byteLength}\r\n`;
  if (close) head += 'Connection: close\r\n';
  else if (version === '1.0') head += 'Connection: keep-alive\r\n';
  head += '\r\n';
  const headBytes = Buffer.from(head, 'utf8');
  if (noBody || req.method === 'HEAD' || res.body.byteLength === 0) return { chunks: [headBytes], close };
  return { chunks: [headBytes, res.body], close };
}

/** How a streamed body goes on the wire after its head: chunked (HTTP/1.1), raw until the close (HTTP/1.0 and 0.9), or not at all (HEAD, 1xx, 204, 304). */
export type StreamFraming = 'chunked' | 'raw' | 'none';

/** The head of a streamed response, and how its body follows. */
export interface StreamHead extends Serialized {
  readonly framing: StreamFraming;
}

/**
 * Frames the head of a streamed response (RFC 9112 §6.1, §7.1): `Transfer-Encoding: chunked` on
 * HTTP/1.1, no framing field and `Connection: close` on HTTP/1.0 (the body ends at the close),
 * nothing but the body on 0.9. A HEAD gets the head a GET would get, and no body.
 */
export function serializeStreamHead(res: ValidResponse, req: RequestContext): StreamHead {
  if (res.version === '0.9' || req.version === '0.9') return { chunks: [], close: true, framing: req.method === 'HEAD' ? 'none' : 'raw' };
  const version = req.version === '1.0' ? '1.0' : res.version;
  const chunked = version === '1.1';
  const noBody = bodyless(res.statuscode);
  const close = !req.keepAlive || res.statuscode < 200 || (!chunked && !noBody && req.method !== 'HEAD');
  let head = `HTTP/${version} ${res.statuscode} ${res.statusmsg ?? reasonPhrase(res.statuscode)}\r\nDate: ${httpDate()}\r\n`;
  if (req.requestId !== undefined) head += `X-Request-Id: ${req.requestId}\r\n`;
  for (const name of Object.keys(res.headers)) {
    if (SERVER_OWNED.has(name.toLowerCase())) continue;
    head += `${name}: ${String(res.headers[name])}\r\n`;
  }
  if (!noBody && chunked) head += 'Transfer-Encoding: chunked\r\n';
  if (close) head += 'Connection: close\r\n';
  else if (version === '1.0') head += 'Connection: keep-alive\r\n';
  head += '\r\n';
  const framing: StreamFraming = noBody || req.method === 'HEAD' ? 'none' : chunked ? 'chunked' : 'raw';
  return { chunks: [Buffer.from(head, 'utf8')], close, framing };
}

/** The line before a chunk of `size` bytes (RFC 9112 §7.1: hex size, CRLF); `size` > 0. */
export function chunkHeader(size: number): Uint8Array {
  return Buffer.from(`${size.toString(16)}\r\n`, 'latin1');
}

/** What follows each chunk's data. */
export const CHUNK_END: Uint8Array = Buffer.from('\r\n', 'latin1');

/** The last chunk and the end of an empty trailer section: a chunked body is complete. */
export const LAST_CHUNK: Uint8Array = Buffer.from('0\r\n\r\n', 'latin1');

/**
 * A server-generated error: short text/plain body, Content-Length, Connection: close. The `detail`
 * is made safe here (control characters escaped, length capped) whatever its origin.
 * `extraHeaders` (e.g. `Retry-After`) are the server's own, never a tenant's.
 */
export function serializeError(code: ErrorCode, detail: string, req: Pick<RequestContext, 'version' | 'method'> | null, extraHeaders: Readonly<Record<string, string>> = {}): Serialized {
  const status = ERRORS[code].status;
  const text = `${escapeText(detail)}\n`;
  if (req?.version === '0.9') return { chunks: [Buffer.from(text, 'utf8')], close: true };
  const body = Buffer.from(text, 'utf8');
  const version = req?.version === '1.0' ? '1.0' : '1.1';
  let extra = '';
  for (const [name, value] of Object.entries(extraHeaders)) extra += `${name}: ${value}\r\n`;
  const head =
    `HTTP/${version} ${status} ${reasonPhrase(status)}\r\nDate: ${httpDate()}\r\n${extra}` +
    `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.byteLength}\r\nConnection: close\r\n\r\n`;
  const headBytes = Buffer.from(head, 'latin1');
  return { chunks: req?.method === 'HEAD' ? [headBytes] : [headBytes, body], close: true };
}

const MAX_DETAIL = 1024;

/** Escapes control characters (CR, LF, NUL, ...) as `\xNN` and caps the length, for text bodies and logs. */
export function escapeText(s: string): string {
  const capped = s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL)}...` : s;
  return capped.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
