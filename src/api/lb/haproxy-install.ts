// Installing a new HAProxy configuration under a running HAProxy: checked with `haproxy -c`, written atomically (a new file renamed over the old), then a seamless reload of the master-worker HAProxy (SIGUSR2 to the master named by its pid file).

import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

/** Where HAProxy is when it is not on PATH (Debian's package). */
const DEFAULT_HAPROXY = '/usr/sbin/haproxy';
/** How long `haproxy -c` may take, ms. */
const CHECK_TIMEOUT_MS = 30_000;

/** The haproxy binary: the first `haproxy` on `PATH` that may be run, else {@link DEFAULT_HAPROXY}; null when there is neither. */
export function findHaproxy(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'haproxy');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there: the next directory
    }
  }
  return existsSync(DEFAULT_HAPROXY) ? DEFAULT_HAPROXY : null;
}

/** `haproxy -c -f file`: null when HAProxy accepts it, else what it said (its ALERT lines, one line). */
export function checkConfig(haproxy: string, file: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(haproxy, ['-c', '-f', file], { timeout: CHECK_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) return resolve(null);
      const said = `${stdout}\n${stderr}`
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
      // `[ALERT]    (1234) : config : parsing [FILE:35] : 'bind' : invalid port '70000'`, without the summary lines that follow.
      const alerts = said
        .filter((l) => l.startsWith('[ALERT]') && !/Error\(s\) found in configuration file|Fatal errors found in configuration/.test(l))
        .map((l) => l.replace(/^\[ALERT\]\s*\(\d+\)\s*:\s*(?:config\s*:\s*)?/, ''));
      const lines = alerts.length > 0 ? alerts : said;
      resolve(lines.length > 0 ? lines.join(' | ') : `haproxy -c failed (${err.message})`);
    });
  });
}

/** What a reload did. */
export type ReloadOutcome = { readonly reloaded: true; readonly pid: number } | { readonly reloaded: false; readonly reason: string };

/** Whether `pid` is an HAProxy process, where the system says (Linux's /proc); true where it cannot tell. */
async function isHaproxy(pid: number): Promise<{ yes: boolean; comm: string }> {
  try {
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
    return { yes: comm.includes('haproxy'), comm };
  } catch (err) {
    // No such process: kill() says so below. No /proc: nothing to check against.
    return { yes: true, comm: (err as NodeJS.ErrnoException).code ?? '?' };
  }
}

/**
 * Reloads the HAProxy master whose pid `pidFile` holds (`haproxy -W -f CFG -p PIDFILE`: in
 * master-worker mode the pid file names the master): SIGUSR2, HAProxy's seamless reload. The
 * master reads the configuration again and starts new workers, which take the listening sockets
 * from the old ones (`-x sockpair@`, automatic in master-worker mode: no connection attempt is
 * refused in between); the old workers stop accepting and finish their connections. A pid that is
 * not HAProxy's (a stale pid file, its number reused) is not signalled: SIGUSR2 ends most programs.
 */
export async function reloadHaproxy(pidFile: string): Promise<ReloadOutcome> {
  let text: string;
  try {
    text = (await readFile(pidFile, 'utf8')).trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { reloaded: false, reason: code === 'ENOENT' ? `no ${pidFile} (HAProxy not started: it reads the file when it starts)` : `cannot read ${pidFile}: ${code}` };
  }
  // The master's pid on the first line (HAProxy writes one per line when it is not in master-worker mode).
  const first = text.split('\n')[0]?.trim() ?? '';
  if (!/^[1-9][0-9]{0,9}$/.test(first)) return { reloaded: false, reason: `${pidFile} holds no pid` };
  const pid = Number(first);
  const proc = await isHaproxy(pid);
  if (!proc.yes) return { reloaded: false, reason: `pid ${pid} of ${pidFile} is not HAProxy (${proc.comm})` };
  try {
    process.kill(pid, 'SIGUSR2');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { reloaded: false, reason: code === 'ESRCH' ? `no process ${pid} (${pidFile} is stale)` : `cannot signal pid ${pid}: ${code}` };
  }
  return { reloaded: true, pid };
}

/** What an install did. */
export type InstallOutcome =
  | { readonly installed: true; readonly reload: ReloadOutcome | null }
  /** `haproxy -c` refused it: nothing changed; the refused text is left in `pending`. */
  | { readonly installed: false; readonly refusal: string; readonly pending: string };

/**
 * Installs `text` as `out`: writes it to `out.new` (same directory, flushed to disk), has
 * `haproxy -c` check that file, renames it over `out` (atomic: HAProxy reading `out` at any time
 * finds the old text or the new, whole), then reloads the HAProxy of `pidFile` if given. A
 * configuration HAProxy refuses is not installed: `out` and the running HAProxy keep the previous one.
 * @throws the file system's error when `out.new` cannot be written or renamed
 */
export async function installConfig(text: string, out: string, haproxy: string, pidFile: string | null): Promise<InstallOutcome> {
  const pending = `${out}.new`;
  const fh = await open(pending, 'w', 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  const refusal = await checkConfig(haproxy, pending);
  if (refusal !== null) return { installed: false, refusal, pending };
  await rename(pending, out);
  return { installed: true, reload: pidFile === null ? null : await reloadHaproxy(pidFile) };
}
