// Test helper: a real HAProxy for a test: finds the binary, writes its configuration into a temporary directory, starts `haproxy -f cfg -db` (or, on a file of the caller, a master-worker `haproxy -W -p PIDFILE` to be reloaded), waits until its frontends accept, stops it at teardown.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Teardown } from './service.js';
import { until } from './until.js';

/** The haproxy binary (on PATH, else Debian's /usr/sbin), or null when it is not installed (.ci/run installs it). */
export function haproxyBinary(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim();
  if (found !== '') return found;
  return existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : null;
}

/** A running HAProxy. */
export interface Haproxy {
  readonly proc: ChildProcess;
  /** Its configuration file. */
  readonly configFile: string;
  /** What it printed so far (its log goes to stdout with -db). */
  output(): string;
  stop(): Promise<void>;
}

/** Whether a TCP connection to `host:port` is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A running HAProxy process with its output captured, stopped (SIGTERM, then SIGKILL after 5 s) at `t`'s teardown. */
function spawnHaproxy(t: Teardown, bin: string, args: readonly string[]): { proc: ChildProcess; output: () => string; stop: () => Promise<void> } {
  const proc = spawn(bin, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    // SIGUSR1 is HAProxy's soft stop; SIGTERM its immediate one (a test does not wait for connections to end); a master stops its workers, old ones too.
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  t.teardown(stop);
  return { proc, output: () => out, stop };
}

/** Resolves once every one of `frontends` accepts. @throws Error with HAProxy's output when it exits first, or one does not within 10 s */
async function frontendsUp(proc: ChildProcess, output: () => string, frontends: ReadonlyArray<{ host: string; port: number }>): Promise<void> {
  for (const f of frontends) {
    const up = await until(async () => proc.exitCode !== null || (await accepts(f.host, f.port)), 10_000);
    if (!up || proc.exitCode !== null) throw new Error(`haproxy did not accept on ${f.host}:${f.port}:\n${output()}`);
  }
}

/** Checks `config` (`haproxy -c`), starts HAProxy on it and resolves once every one of `frontends` accepts. @throws Error with HAProxy's output when it refuses the config or does not come up */
export async function startHaproxy(t: Teardown, config: string, frontends: ReadonlyArray<{ host: string; port: number }>): Promise<Haproxy> {
  const bin = haproxyBinary();
  if (bin === null) throw new Error('haproxy is not installed (apt-get install haproxy; .ci/run does)');
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-haproxy-'));
  const configFile = path.join(dir, 'haproxy.cfg');
  writeFileSync(configFile, config);
  const check = spawnSync(bin, ['-c', '-f', configFile], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy -c refused the configuration:\n${check.stdout}${check.stderr}\n${config}`);
  const run = spawnHaproxy(t, bin, ['-f', configFile, '-db']);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await frontendsUp(run.proc, run.output, frontends);
  return { proc: run.proc, configFile, output: run.output, stop: run.stop };
}

/** A master-worker HAProxy (`haproxy -W -f CFG -p PIDFILE`), the one `isohttpd lb haproxy --reload-pid` reloads. */
export interface HaproxyMaster {
  readonly proc: ChildProcess;
  /** The master's pid (what the pid file holds). */
  readonly pid: number;
  /** What the master and its workers printed so far (stdout and stderr: the workers' `log stdout` and their notices). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `haproxy -W -f configFile -p pidFile` on an existing configuration file (not checked
 * here: the caller wrote it) and resolves once the pid file names the master and every one of
 * `frontends` accepts; stops it (SIGTERM to the master, which stops its workers, old ones too) at teardown.
 */
export async function startHaproxyMaster(t: Teardown, configFile: string, pidFile: string, frontends: ReadonlyArray<{ host: string; port: number }>): Promise<HaproxyMaster> {
  const bin = haproxyBinary();
  if (bin === null) throw new Error('haproxy is not installed (apt-get install haproxy; .ci/run does)');
  const { proc, output, stop } = spawnHaproxy(t, bin, ['-W', '-f', configFile, '-p', pidFile]);
  const pid = proc.pid ?? 0;
  const written = await until(() => proc.exitCode !== null || readPid(pidFile) === pid, 10_000);
  if (!written || proc.exitCode !== null) throw new Error(`haproxy -W did not write its pid ${pid} to ${pidFile}:\n${output()}`);
  await frontendsUp(proc, output, frontends);
  return { proc, pid, output, stop };
}

/** The pid a pid file holds, or null. */
function readPid(file: string): number | null {
  try {
    const n = Number(readFileSync(file, 'utf8').trim().split('\n')[0]);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
