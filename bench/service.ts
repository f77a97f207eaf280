// Starts the built service (dist/cli.js) for a benchmark and deploys handlers on it.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const BASELINE = new URL('./baseline-server.ts', import.meta.url).pathname;
const TSNODE = ['--import=@isaacs/ts-node-temp-fork-for-pr-2009/import'];
const TSNODE_ENV = { TS_NODE_TRANSPILE_ONLY: '1', TS_NODE_PROJECT: 'tsconfig.test.json' };

/** A running isohttpd for a benchmark. */
export interface BenchService {
  readonly url: string;
  readonly proc: ChildProcess;
  /** Deploys a handler on a free port and returns the port. */
  deploy(source: string, extra?: Record<string, unknown>): Promise<{ httpdid: number; port: number }>;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/**
 * Starts `isohttpd serve` with the given flags on a free API port and a temporary data dir.
 * @param cli the built entry point to run (another checkout's `dist/cli.js` to compare builds)
 */
export async function startService(args: string[] = [], cli = CLI): Promise<BenchService> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'isohttpd-bench-'));
  const proc = spawn(process.execPath, [cli, 'serve', '--api-port', '0', '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ISOHTTPD_LOG_LEVEL: 'error' },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /API listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`service exited with ${String(code)}`)));
  });
  proc.stdout?.resume();
  return {
    url,
    proc,
    async deploy(source, extra = {}) {
      const port = await freePort();
      const res = await fetch(`${url}/servers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ host: '127.0.0.1', port, source, ...extra }) });
      const body = (await res.json()) as { httpdid: number };
      if (res.status !== 201) throw new Error(`deploy failed: ${res.status} ${JSON.stringify(body)}`);
      return { httpdid: body.httpdid, port };
    },
    async stop() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Starts the node:http baseline (bench/baseline-server.ts) for `source` in a child process. */
export async function startBaseline(source: string): Promise<{ port: number; proc: ChildProcess }> {
  const url = `data:text/javascript,${encodeURIComponent(source)}`;
  const proc = spawn(process.execPath, [...TSNODE, BASELINE, url], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, ...TSNODE_ENV } });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m?.[1] !== undefined) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`baseline exited with ${String(c)}`)));
  });
  return { port, proc };
}
