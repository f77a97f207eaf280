// Shared by the hostile-code tests: deploy a handler with a `/ok` path that proves the server still serves.

import type { Service } from '../helpers/service.js';

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

/** GETs a path; resolves with status and text (never rejects on an HTTP status). */
export async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, text: await res.text() };
}

/** Deploys and returns the port. */
export async function deployHostile(svc: Service, source: string, limits?: Record<string, number>): Promise<number> {
  return (await svc.deploy(source, limits)).port;
}
