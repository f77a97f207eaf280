// Test helper: the sandbox worker processes of a service, oldest first; the newest is the warm spare.

import { execFileSync } from 'node:child_process';

/** Child process ids of `parent`, oldest first. */
export function childPids(parent: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--sort=start_time', '--ppid', String(parent)])
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The workers serving (oldest first) and the spare (the newest process), once the spare is up. */
export function workerPids(parent: number): { serving: number[]; spare: number | undefined } {
  const all = childPids(parent);
  return { serving: all.slice(0, -1), spare: all[all.length - 1] };
}

/** Waits (up to 10 s) until `workers` workers and the spare are running; then returns their pids. */
export async function workersUp(parent: number, workers: number): Promise<{ serving: number[]; spare: number | undefined }> {
  const end = Date.now() + 10_000;
  while (childPids(parent).length < workers + 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return workerPids(parent);
}

/** Whether a process exists (signal 0 reaches it; a zombie not yet reaped counts as existing). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
