// Test helper: virtual hosts: a handler that names its server and the Host it saw, deploying one with hostnames, and asking a shared port for one Host over raw HTTP.

import { exchange, parseResponses, type RawResponse } from './raw-http.js';
import type { Service } from './service.js';

/** A handler answering `<label> <host header>` (and counting its requests in module state). */
export function namedHandler(label: string): string {
  return `let n = 0;
export default (request) => ({ version: '1.1', statuscode: 200, headers: {}, message: '${label} ' + (request.headers.Host ?? request.headers.host ?? '-') + ' #' + (++n) });`;
}

/** Creates a server with hostnames on `port` for `token`'s tenant; resolves with the API answer (any status). */
export async function deployVhost(
  svc: Service,
  port: number,
  hostnames: readonly string[],
  label: string,
  token?: string,
  extra: Record<string, unknown> = {},
): Promise<{ status: number; body: any }> {
  const r = await svc.api('POST', '/servers', { host: '127.0.0.1', port, hostnames, source: namedHandler(label), ...extra }, token);
  return { status: r.status, body: r.body };
}

/** One request with this Host (null: none) on a fresh connection, closed after it. */
export async function ask(port: number, host: string | null, target = '/', version = '1.1'): Promise<RawResponse> {
  const head = `GET ${target} HTTP/${version}\r\n${host === null ? '' : `Host: ${host}\r\n`}Connection: close\r\n\r\n`;
  const [res] = parseResponses(await exchange(port, head));
  if (res === undefined) throw new Error(`no answer for Host ${String(host)}`);
  return res;
}

/** The body of a response as text. */
export function text(res: RawResponse): string {
  return res.body.toString('utf8');
}
