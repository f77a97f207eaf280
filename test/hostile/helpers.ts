// Shared by the hostile-code tests: deploy a handler with a `/ok` path that proves the server still serves.

import { exchange, parseResponses } from '../helpers/raw-http.js';

/** Wraps a hostile handler body so that `/ok` answers normally and anything else runs `attack(request)`. */
export function hostile(attack: string, prelude = ''): string {
  return `${prelude}
let served = 0;
export default async function handler(request) {
  served++;
  if (request.path === '/ok') return { version: '1.1', statuscode: 200, headers: {}, message: 'ok ' + served };
  return (${attack})(request);
}`;
}

/**
 * GETs a path on a connection of its own (never a pooled one that a killed worker may have left
 * dead); resolves with status and text, or status 0 when the connection closed without an answer.
 */
export async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const [res] = parseResponses(await exchange(port, `GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`, { idleMs: 15_000 }));
  return { status: res?.status ?? 0, text: res?.body.toString() ?? '' };
}
