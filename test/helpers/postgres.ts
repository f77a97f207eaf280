// Test helper: a real throwaway PostgreSQL cluster (initdb in a temporary directory, on a free loopback port, run as an unprivileged user when the tests run as root), a database per test, stopped and removed at the end.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, type Teardown } from './service.js';

/** A running throwaway cluster. */
export interface PostgresCluster {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** A URL of the database `name` on it (as the superuser `postgres`, no password: trust on loopback). */
  url(name: string): string;
  /** Creates a fresh database and resolves to its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server (fast shutdown: connections are closed); the data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data, resolving once it accepts connections. */
  start(): Promise<void>;
}

/** The directory of PostgreSQL's server programs: `pg_config --bindir` if it has initdb, else the newest /usr/lib/postgresql/N/bin. */
function binDir(): string {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(path.join(dir, 'initdb'))) return dir;
  } catch {
    // no pg_config: look in Debian's place
  }
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(path.join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const v = versions[0];
  if (v === undefined) throw new Error('PostgreSQL is not installed (no initdb): apt-get install postgresql (.ci/run does)');
  return path.join(base, v, 'bin');
}

/** The user the server runs as: ourselves, or (as root, which PostgreSQL refuses) `postgres`, else `nobody`. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      // no such user: the next
    }
  }
  throw new Error('running as root and neither user postgres nor nobody exists to run PostgreSQL as');
}

/** Waits until the server at `port` accepts a connection (or `proc` exits). */
async function ready(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`postgres exited at start:\n${log()}`);
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.end();
      return;
    } catch {
      await c.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`postgres did not accept connections:\n${log()}`);
}

/**
 * Starts a cluster for one test file (or test) and stops it, removing its directory, in
 * `t.teardown`; a process exit kills it too (SIGQUIT), so no server outlives the tests.
 */
export async function startPostgres(t: Teardown): Promise<PostgresCluster> {
  const bin = binDir();
  const user = runAs();
  const base = mkdtempSync(path.join(tmpdir(), 'isohttpd-pg-'));
  if (user !== undefined) chownSync(base, user.uid, user.gid);
  const dataDir = path.join(base, 'data');
  execFileSync(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C'], { stdio: 'pipe', ...user });
  const port = await freePort();
  let proc: ChildProcess | undefined;
  let out = '';
  const kill = (): void => {
    if (proc !== undefined && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGQUIT');
  };
  process.once('exit', kill);
  const start = async (): Promise<void> => {
    out = '';
    const p = spawn(
      path.join(bin, 'postgres'),
      ['-D', dataDir, '-p', String(port), '-k', base, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200', '-c', 'shared_buffers=16MB'],
      { stdio: ['ignore', 'pipe', 'pipe'], ...user },
    );
    p.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc = p;
    await ready(port, p, () => out);
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    // SIGINT is PostgreSQL's fast shutdown (`pg_ctl stop -m fast`): sessions are ended, then a checkpoint.
    p.kill('SIGINT');
    const timer = setTimeout(() => p.kill('SIGQUIT'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  t.teardown(async () => {
    await stop();
    process.off('exit', kill);
    rmSync(base, { recursive: true, force: true });
  });
  await start();
  let databases = 0;
  const url = (name: string): string => `postgres://postgres@127.0.0.1:${port}/${name}`;
  const createDatabase = async (): Promise<string> => {
    const name = `t${++databases}`;
    const c = new pg.Client({ connectionString: url('postgres') });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name}`);
    } finally {
      await c.end();
    }
    return url(name);
  };
  return { port, url, createDatabase, stop, start };
}
