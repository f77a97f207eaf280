// Test helper: runs the `isohttpd` client commands as a real child process (node dist/cli.js …) and collects exit code and output.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Test } from 'tap';

const CLI = path.resolve(import.meta.dirname, '..', '..', 'dist', 'cli.js');

/** What a finished CLI run printed, and its exit code. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment for a CLI run: ISOHTTPD_URL/ISOHTTPD_TOKEN only as given (none inherited from the test's environment). */
function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  delete base['ISOHTTPD_URL'];
  delete base['ISOHTTPD_TOKEN'];
  return { ...base, ...env };
}

/** Starts `node dist/cli.js ...args` without waiting for it (in `cwd`, default the test's). */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}, cwd?: string): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: cliEnv(env), ...(cwd === undefined ? {} : { cwd }) });
}

/** Runs `node dist/cli.js ...args` to its end (in `cwd`, default the test's). */
export async function runCli(args: readonly string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  const proc = spawnCli(args, env, cwd);
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => proc.once('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** The exit codes README.md documents for the client commands. */
export const EXIT = Object.freeze({ ok: 0, apiError: 1, usage: 2, notFound: 3, forbidden: 4, invalidSource: 5, unreachable: 6 });

/** Checks a failed run: exit `code`, nothing on stdout, one `isohttpd: …` line on stderr matching `message`. */
export function assertFailure(t: Test, r: CliResult, code: number, message: RegExp, name: string): void {
  t.equal(r.code, code, `${name}: exit code ${code}`);
  t.equal(r.stdout, '', `${name}: nothing on stdout`);
  t.match(r.stderr, /^isohttpd: [^\n]+\n$/, `${name}: one line on stderr`);
  t.match(r.stderr, message, name);
}

/** Runs several independent command lines, a few at a time (each is a process start); results in order. */
export async function runMany(argsList: ReadonlyArray<readonly string[]>, env: Record<string, string> = {}, atOnce = 4): Promise<CliResult[]> {
  const results: CliResult[] = [];
  for (let i = 0; i < argsList.length; i += atOnce) {
    results.push(...(await Promise.all(argsList.slice(i, i + atOnce).map((args) => runCli(args, env)))));
  }
  return results;
}

/** A running CLI whose output is collected as it comes. */
export interface WatchedCli {
  /** stdout so far. */
  out(): string;
  /** stderr so far. */
  err(): string;
  /** Both, interleaved as they arrived. */
  all(): string;
  /** Resolves once `re` matches `stream` (stdout by default), checking as output arrives; rejects after the watch's bound. */
  until(re: RegExp, what: string, stream?: 'out' | 'err' | 'all'): Promise<void>;
  /** The exit code, once the process has closed. */
  readonly exit: Promise<number | null>;
}

/** Watches a running CLI's output; `until` waits at most `withinMs` (default 15 s) for each match. */
export function watchCli(proc: ChildProcess, withinMs = 15_000): WatchedCli {
  const got = { out: '', err: '', all: '' };
  const waiters = new Set<() => void>();
  const on = (stream: 'out' | 'err') => (d: Buffer) => {
    got[stream] += d.toString();
    got.all += d.toString();
    for (const w of waiters) w();
  };
  proc.stdout?.on('data', on('out'));
  proc.stderr?.on('data', on('err'));
  const exit = new Promise<number | null>((r) => proc.once('close', (code) => r(code)));
  const until = (re: RegExp, what: string, stream: 'out' | 'err' | 'all' = 'out'): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!re.test(got[stream])) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${what} not seen within ${withinMs / 1000} s; stdout: ${got.out}; stderr: ${got.err}`));
      }, withinMs);
      waiters.add(check);
      check();
    });
  return { out: () => got.out, err: () => got.err, all: () => got.all, until, exit };
}
