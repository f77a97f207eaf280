// Drives HTTP load for the benchmarks: autocannon (always) and wrk (when installed), both reduced to req/s, p50 and p99.

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

/** One load run: mean requests per second, latency percentiles (ms), failed or non-2xx responses. */
export interface LoadResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
}

/** What to send. */
export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly method?: 'GET' | 'POST';
  readonly body?: string;
  readonly contentType?: string;
  /** Offered load over all connections, requests per second (autocannon only; none: as fast as the server answers). */
  readonly rate?: number;
}

/** Runs autocannon (keep-alive) against `spec`. */
export async function autocannonLoad(spec: LoadSpec): Promise<LoadResult> {
  const r = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationS,
    method: spec.method ?? 'GET',
    ...(spec.rate !== undefined ? { overallRate: spec.rate } : {}),
    ...(spec.body !== undefined ? { body: spec.body, headers: { 'content-type': spec.contentType ?? 'application/octet-stream' } } : {}),
  });
  return { reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts };
}

let wrkPath: string | null | undefined;
/** The wrk binary, or null when it is not installed. */
export function wrkBinary(): string | null {
  if (wrkPath !== undefined) return wrkPath;
  try {
    wrkPath = execFileSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).trim() || null;
  } catch {
    wrkPath = null;
  }
  return wrkPath;
}

function ms(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (m === null) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** Runs wrk (one thread, keep-alive) against `spec`; null when wrk is not installed. */
export async function wrkLoad(spec: LoadSpec): Promise<LoadResult | null> {
  const bin = wrkBinary();
  if (bin === null) return null;
  const args = ['-t1', `-c${spec.connections}`, `-d${spec.durationS}s`, '--latency'];
  if (spec.method === 'POST') {
    const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-wrk-'));
    const script = path.join(dir, 'post.lua');
    writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(spec.body ?? '')}\nwrk.headers["Content-Type"] = ${JSON.stringify(spec.contentType ?? 'application/octet-stream')}\n`);
    args.push('-s', script);
  }
  args.push(spec.url);
  const out = await new Promise<string>((resolve, reject) => {
    execFile(bin, args, { encoding: 'utf8' }, (err, stdout) => (err !== null ? reject(err) : resolve(stdout)));
  });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  const errs = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sockErrors = sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0);
  return { reqPerSec: Number(rps?.[1] ?? NaN), p50: ms(p50?.[1] ?? ''), p99: ms(p99?.[1] ?? ''), errors: Number(errs?.[1] ?? 0) + sockErrors };
}
