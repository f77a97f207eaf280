// Test helper: starts the real service (dist/cli.js) as a child process on a free API port with a temporary data dir.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

/** Anything with tap's `teardown`. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** An answer of the control API. */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/** A running isohttpd for one test file. */
export interface Service {
  readonly url: string;
  readonly apiPort: number;
  readonly proc: ChildProcess;
  readonly dataDir: string;
  /** Everything the service printed so far (stdout and stderr). */
  output(): string;
  /** Calls the API, with `Authorization: Bearer <token>` when a token is given. */
  api(method: string, urlPath: string, body?: unknown, token?: string): Promise<ApiAnswer>;
  /** Deploys a handler on a free port (`extra`: more fields of the create request, e.g. `exposeErrors`); fails the test on anything but 201. */
  deploy(source: string, limits?: Record<string, number>, token?: string, extra?: Record<string, unknown>): Promise<{ httpdid: number; port: number }>;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Reads an example handler from examples/. */
export function example(name: string): string {
  return readFileSync(path.join(ROOT, 'examples', name), 'utf8');
}

/** A fresh temporary data dir (removed by the caller, or by a service started without `keepDataDir`). */
export function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'isohttpd-test-'));
}

/** A config file holding `value` as JSON, in a temporary directory removed at `t`'s teardown; resolves to its path. */
export function configFile(t: Teardown, value: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(value));
  return file;
}

/** Runs `isohttpd tenant …` on a data dir (or, given as `registry:URL`, a PostgreSQL registry); returns its exit code and output. */
export function tenantCli(dataDir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const where = dataDir.startsWith('registry:') ? ['--registry', dataDir.slice('registry:'.length)] : ['--data-dir', dataDir];
  const r = spawnSync(process.execPath, [CLI, 'tenant', ...args, ...where], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Adds a tenant to a data dir and returns its token. */
export function addTenant(dataDir: string, name: string, ...flags: string[]): string {
  const r = tenantCli(dataDir, 'add', name, ...flags);
  if (r.status !== 0) throw new Error(`tenant add ${name} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Options of {@link startService}: an existing data dir to use, kept after the service stops. */
export interface StartOptions {
  readonly dataDir?: string;
  /** Starts the service as the leader of a process group of its own (for signals to the whole group). */
  readonly detached?: boolean;
  /** The registry to use (`--registry`, e.g. a database of test/helpers/postgres.ts); absent: SQLite in the data dir. */
  readonly registry?: string;
}

/** Where the services started by tests record each API answer (`METHOD ROUTE STATUS`, see src/api/http/route-log.ts): test/openapi-observed.test.ts checks them against the OpenAPI document. */
export const ROUTE_LOG_DIR = path.join(tmpdir(), 'isohttpd-route-log');

function routeLogFile(): string {
  mkdirSync(ROUTE_LOG_DIR, { recursive: true });
  return path.join(ROUTE_LOG_DIR, `${process.pid}-${Math.random().toString(36).slice(2)}.log`);
}

/** Starts the service and waits until its API answers. */
export async function startService(t: Teardown, extraArgs: string[] = [], extraEnv: Record<string, string> = {}, opts: StartOptions = {}): Promise<Service> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const registry = opts.registry === undefined ? [] : ['--registry', opts.registry];
  const proc = spawn(process.execPath, [CLI, 'serve', '--api-port', '0', '--data-dir', dataDir, ...registry, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached === true,
    env: { ...process.env, ISOHTTPD_LOG_LEVEL: process.env['ISOHTTPD_LOG_LEVEL'] ?? 'warn', ISOHTTPD_ROUTE_LOG: routeLogFile(), ...extraEnv },
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${out}`)), 20_000);
    const check = (): void => {
      const m = /API listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        proc.stdout?.off('data', check);
        resolve(m[1]);
      }
    };
    proc.stdout?.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${String(code)}:\n${out}`));
    });
  });
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  t.teardown(stop);
  const api = async (method: string, urlPath: string, body?: unknown, token?: string): Promise<ApiAnswer> => {
    const headers: Record<string, string> = {};
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    const res = await fetch(url + urlPath, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };
  const deploy = async (source: string, limits?: Record<string, number>, token?: string, extra: Record<string, unknown> = {}): Promise<{ httpdid: number; port: number }> => {
    const port = await freePort();
    const r = await api('POST', '/servers', { host: '127.0.0.1', port, source, ...(limits === undefined ? {} : { limits }), ...extra }, token);
    if (r.status !== 201) throw new Error(`deploy failed: ${r.status} ${JSON.stringify(r.body)}`);
    return { httpdid: (r.body as { httpdid: number }).httpdid, port };
  };
  return { url, apiPort: Number(new URL(url).port), proc, dataDir, output: () => out, api, deploy, stop };
}
