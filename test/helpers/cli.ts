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
