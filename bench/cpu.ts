// CPU time from /proc for the benchmarks: the machine's busy share, and one process's threads by role (its main thread against the rest), so a throughput figure can say where the cores went.

import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime + stime of one /proc stat line, ms. */
function statMs(line: string): number {
  // The command name is in parentheses and may hold spaces: fields count from after it.
  const rest = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_MS;
}

/** CPU time so far of a process's threads, ms: its main thread, and every other thread by name. */
export function threadsMs(pid: number): { main: number; others: Map<string, number> } {
  let main = 0;
  const others = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let line: string;
    try {
      line = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ms = statMs(line);
    if (Number(tid) === pid) main = ms;
    else {
      const name = line.slice(line.indexOf('(') + 1, line.lastIndexOf(')'));
      others.set(name, (others.get(name) ?? 0) + ms);
    }
  }
  return { main, others };
}

/** The machine's busy and total CPU time so far, ms (all cores). */
export function machineMs(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.split(/\s+/).slice(1).map(Number) ?? [];
  const total = cpu.reduce((a, b) => a + b, 0) * TICK_MS;
  const idle = ((cpu[3] ?? 0) + (cpu[4] ?? 0)) * TICK_MS;
  return { busy: total - idle, total };
}

/** The child processes of `pid`. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Where the CPU went during `fn`: cores busy on the machine, and in `pid` its main thread and its other threads, each in cores (1 = one core for the whole time). */
export async function cpuDuring<T>(pid: number, fn: () => Promise<T>): Promise<{ value: T; machineCores: number; mainCores: number; otherCores: number; top: string }> {
  const m0 = machineMs();
  const p0 = threadsMs(pid);
  const t0 = performance.now();
  const value = await fn();
  const wall = performance.now() - t0;
  const m1 = machineMs();
  const p1 = threadsMs(pid);
  let other = 0;
  const byName: Array<[string, number]> = [];
  for (const [name, ms] of p1.others) {
    const d = ms - (p0.others.get(name) ?? 0);
    other += d;
    byName.push([name, d]);
  }
  byName.sort((a, b) => b[1] - a[1]);
  const cores = (ms: number): number => Math.round((ms / wall) * 100) / 100;
  return {
    value,
    machineCores: cores(m1.busy - m0.busy),
    mainCores: cores(p1.main - p0.main),
    otherCores: cores(other),
    top: byName
      .slice(0, 3)
      .map(([n, ms]) => `${n} ${cores(ms)}`)
      .join(', '),
  };
}
