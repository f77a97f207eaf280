// Shared by the hostile-code tests: deploy a handler with a `/ok` path that proves the server still serves.

import { readFileSync } from 'node:fs';
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

/** A field of /proc/<pid>/status in KiB (VmRSS, VmHWM), or 0 once the process is gone. */
function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

/** Resident set size of a process now, MiB. */
export function rssMb(pid: number): number {
  return statusKb(pid, 'VmRSS') / 1024;
}

/** Highest resident set size a process has had, MiB (the kernel's VmHWM). */
export function peakRssMb(pid: number): number {
  return statusKb(pid, 'VmHWM') / 1024;
}

/** CPU time a process has used so far (user + system), ms. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** What a neighbour saw while it was watched. */
export interface NeighbourReport {
  readonly count: number;
  readonly failed: number;
  /** Slowest answer, ms. */
  readonly slowestMs: number;
  readonly failures: readonly string[];
}

/** GETs `/ok` on `port` over and over (one request at a time, `everyMs` apart) until `stop()`. */
export function watchNeighbour(port: number, everyMs = 100): { stop(): Promise<NeighbourReport> } {
  let running = true;
  let count = 0;
  let slowestMs = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const r = await get(port, '/ok');
      const ms = performance.now() - t0;
      count++;
      if (ms > slowestMs) slowestMs = ms;
      if (r.status !== 200) failures.push(`${r.status} ${r.text.trim()}`);
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return {
    async stop(): Promise<NeighbourReport> {
      running = false;
      await loop;
      return { count, failed: failures.length, slowestMs, failures };
    },
  };
}

/** A server's `stats` once `ready(stats)` holds (counters arrive with the heartbeat, every 250 ms), or the last seen after 5 s. */
export async function statsWhen(api: (method: string, path: string) => Promise<{ body: any }>, httpdid: number, ready: (stats: any) => boolean): Promise<any> {
  const end = Date.now() + 5000;
  let stats: any;
  do {
    stats = (await api('GET', `/servers/${httpdid}`)).body.stats;
    if (ready(stats)) return stats;
    await new Promise((res) => setTimeout(res, 100));
  } while (Date.now() < end);
  return stats;
}
