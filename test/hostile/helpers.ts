// Shared by the hostile-code tests: deploy a handler with a `/ok` path that proves the server still serves; watch a neighbour on the same worker and the workers' RSS while an attack runs.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Test } from 'tap';
import { exchange, parseResponses } from '../helpers/raw-http.js';
import { freePort } from '../helpers/service.js';
import { childPids, workersUp } from '../helpers/workers.js';

export { until } from '../helpers/until.js';

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
 * A handler (for {@link hostile}) that evaluates the expression `cases[request.path]` and answers
 * it as text; 404 for a path not in `cases`.
 */
export function evalTable(cases: Readonly<Record<string, string>>): string {
  return `(r) => {
      const table = ${JSON.stringify(cases)};
      if (!(r.path in table)) return { version: '1.1', statuscode: 404, headers: {}, message: '' };
      return { version: '1.1', statuscode: 200, headers: {}, message: String((0, eval)(table[r.path])) };
    }`;
}

/** POSTs a server on a free port with `limits`; resolves with the API's answer, the port and how long the answer took, ms. */
export async function timedDeploy(
  api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>,
  source: string,
  limits: Record<string, number>,
): Promise<{ status: number; body: any; port: number; ms: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const r = await api('POST', '/servers', { host: '127.0.0.1', port, source, limits });
  return { status: r.status, body: r.body, port, ms: performance.now() - t0 };
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
  /** Longest time the neighbour went without a 200 (from the start of the first request not answered 200 to the end of the next 200), ms. */
  readonly longestGapMs: number;
  readonly failures: readonly string[];
}

/** A neighbour watcher: see {@link watchNeighbour}. */
export interface NeighbourWatch {
  stop(): Promise<NeighbourReport>;
  /**
   * Runs `fn` between two of the watcher's requests, none in flight (the last one answered
   * `settleMs` before, so that its worker has told the control process it stopped running): a test
   * that kills the worker itself charges the kill to the attacker alone this way (a neighbour
   * request in flight at a kill is charged too, docs/security.md).
   */
  quiet<T>(fn: () => Promise<T> | T, settleMs?: number): Promise<T>;
}

/** GETs `/ok` on `port` over and over (one request at a time, `everyMs` apart) until `stop()`. */
export function watchNeighbour(port: number, everyMs = 100): NeighbourWatch {
  let running = true;
  /** Set by quiet(): the loop waits on it before its next request. */
  let hold = null as Promise<void> | null;
  /** Resolved by the loop when it is between requests and sees `hold`. */
  let idle = null as (() => void) | null;
  let count = 0;
  let slowestMs = 0;
  let longestGapMs = 0;
  let downSince: number | undefined;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      if (hold !== null) {
        idle?.();
        await hold;
        continue;
      }
      const t0 = performance.now();
      // A connection reset (its worker killed under it) is a failed request, not the watcher's end.
      const r = await get(port, '/ok').catch((err: unknown) => ({ status: 0, text: (err as Error).message }));
      const t1 = performance.now();
      count++;
      if (t1 - t0 > slowestMs) slowestMs = t1 - t0;
      if (r.status !== 200) {
        failures.push(`${r.status} ${r.text.trim()}`);
        downSince ??= t0;
      }
      const gap = t1 - (downSince ?? t0);
      if (gap > longestGapMs) longestGapMs = gap;
      if (r.status === 200) downSince = undefined;
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return {
    async stop(): Promise<NeighbourReport> {
      running = false;
      await loop;
      // Still down when stopped: the gap runs to now.
      if (downSince !== undefined) longestGapMs = Math.max(longestGapMs, performance.now() - downSince);
      return { count, failed: failures.length, slowestMs, longestGapMs, failures };
    },
    async quiet<T>(fn: () => Promise<T> | T, settleMs = 50): Promise<T> {
      let release = (): void => undefined;
      const between = new Promise<void>((res) => {
        idle = res;
      });
      hold = new Promise<void>((res) => {
        release = res;
      });
      await between;
      await new Promise((res) => setTimeout(res, settleMs));
      try {
        return await fn();
      } finally {
        hold = null;
        idle = null;
        release();
      }
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

/** Samples the highest VmHWM (MiB) of every child process of `parent` (its workers, spare and replacements included) every `everyMs` until `stop()`. */
export function watchPeakRss(parent: number, everyMs = 100): { stop(): number } {
  let peak = 0;
  const sample = (): void => {
    for (const pid of childPids(parent)) peak = Math.max(peak, peakRssMb(pid));
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop(): number {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** The neighbour's memoryMb (the schema's default). */
const NEIGHBOUR_MEMORY_MB = 64;

/** Options of {@link Containment.check}. */
export interface CheckOptions {
  /** The attacking server's memoryMb (the RSS bound is idle + 4 × this + 64 MiB); default 64, the schema's. */
  readonly memoryMb?: number;
  /** The test kills a worker itself (SIGKILL, SIGSTOP past the window): neighbour requests in flight then may fail or wait; the neighbour must still be back within `gapMs`. */
  readonly workerKilled?: boolean;
  /** Longest the neighbour may go without a 200, ms; default 2000. */
  readonly gapMs?: number;
  /**
   * The attack makes one young large object of this size, MiB: V8 allocates the first one past any
   * heap limit (docs/security.md, residual risks), so the RSS bound allows it on top, and the
   * neighbour's allowance in the worker's budget (the RSS backstop retires the worker at twice that
   * budget). At most one per isolate: the heap guard refuses a second, and a server runs one isolate at a time.
   */
  readonly largeObjectMb?: number;
}

/** A neighbour deployed on a service's (one) worker, watched while an attack runs, and the workers' peak RSS. */
export interface Containment {
  readonly neighbour: { readonly httpdid: number; readonly port: number };
  /** The pid of the worker serving the neighbour when the watch began. */
  readonly worker: number;
  /** That worker's RSS when the watch began, MiB. */
  readonly idleMb: number;
  /**
   * Stops watching and asserts: no neighbour request failed (unless `workerKilled`), every answer
   * within 2 s, the neighbour never without a 200 for longer than `gapMs`, and no worker's peak
   * RSS above idle + 4 × memoryMb + 64 MiB (isolated-vm documents its limit as within 2–3×).
   */
  check(t: Test, opts?: CheckOptions): Promise<NeighbourReport & { readonly peakMb: number }>;
  /** Runs `fn` while no neighbour request is in flight (see {@link NeighbourWatch.quiet}). */
  quiet<T>(fn: () => Promise<T> | T): Promise<T>;
}

/**
 * Deploys a neighbour (a `/ok` server) on a service started with `--workers 1`, so that it shares
 * the one worker with whatever is deployed next, and starts watching it (`/ok` every `everyMs` ms, default 100)
 * and the peak RSS of the service's workers.
 */
export async function contain(
  svc: {
    readonly proc: { readonly pid?: number | undefined };
    deploy(source: string, limits?: Record<string, number>): Promise<{ httpdid: number; port: number }>;
    output?(): string;
  },
  everyMs = 100,
): Promise<Containment> {
  const parent = svc.proc.pid ?? 0;
  const neighbour = await svc.deploy(hostile('() => ({ version: "1.1", statuscode: 200, headers: {}, message: "n" })'));
  const worker = (await workersUp(parent, 1)).serving[0] ?? 0;
  const idleMb = rssMb(worker);
  const watch = watchNeighbour(neighbour.port, everyMs);
  const rss = watchPeakRss(parent);
  return {
    neighbour,
    worker,
    idleMb,
    quiet: (fn) => watch.quiet(fn),
    async check(t: Test, opts: CheckOptions = {}): Promise<NeighbourReport & { readonly peakMb: number }> {
      const report = await watch.stop();
      const peakMb = rss.stop();
      const memoryMb = opts.memoryMb ?? 64;
      const gapMs = opts.gapMs ?? 2000;
      const failures = report.failures.join('; ');
      // What happened to the workers meanwhile, for whoever reads a failure.
      for (const line of (svc.output?.() ?? '').split('\n')) if (/sandbox worker (retired|exited)|answered no heartbeat/.test(line)) t.comment(line.slice(0, 300));
      if (opts.workerKilled === true) t.comment(`neighbour: ${report.failed} of ${report.count} requests failed while its worker was killed ${failures}`);
      else t.equal(report.failed, 0, `neighbour: no request failed (${report.count} sent) ${failures}`);
      // A request on a killed (or stopped) worker waits until it is gone: only the gap is bounded then.
      if (opts.workerKilled !== true) t.ok(report.slowestMs < 2000, `neighbour: every answer within 2 s (slowest ${report.slowestMs.toFixed(0)} ms)`);
      t.ok(report.longestGapMs < gapMs, `neighbour: never without a 200 for ${gapMs} ms (longest ${report.longestGapMs.toFixed(0)} ms)`);
      const large = opts.largeObjectMb ?? 0;
      // A young large object is refused by no heap limit: the worker's RSS backstop stops it (at
      // twice the worker's budget, whose allowance includes the neighbour's isolate on that worker).
      const neighbourMb = large > 0 ? 4 * NEIGHBOUR_MEMORY_MB : 0;
      const bound = idleMb + 4 * memoryMb + 64 + large + neighbourMb;
      const what = `idle ${idleMb.toFixed(0)} + 4 × ${memoryMb} + 64 MiB${large > 0 ? ` + one young large object of ${large} MiB + the neighbour's allowance (4 × ${NEIGHBOUR_MEMORY_MB} MiB)` : ''}`;
      t.ok(peakMb > 0 && peakMb < bound, `workers' peak RSS ${peakMb.toFixed(0)} MiB within ${what}`);
      return { ...report, peakMb };
    },
  };
}

/**
 * Which of `pids` holds an established TCP connection whose local port is `port` (the worker that
 * accepted a client of a tenant server), from /proc/net/tcp{,6} and each process's fds; undefined if none.
 */
export function connectionOwner(port: number, pids: readonly number[]): number | undefined {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 01 is ESTABLISHED; field 9 is the inode.
      if (f.length > 9 && f[1]?.endsWith(`:${hexPort}`) && f[3] === '01' && f[9] !== undefined) inodes.add(f[9]);
    }
  }
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1] !== undefined && inodes.has(m[1])) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}
