// Isolate scaling: one server on one sandbox worker with `limits.isolates` 1 → N, hello world and the 4 KiB echo, with wrk (autocannon without it); throughput and p99 per setting, as a ratio to isolates 1 in the same run.

import { childrenOf, cpuDuring } from './cpu.js';
import { autocannonLoad, wrkBinary, wrkLoad, type LoadResult, type LoadSpec } from './load.js';
import { machineLines, writeResult, writeSection } from './readme-section.js';
import { startService } from './service.js';
import { BUSY, ECHO, HELLO, JSON_4K } from './handlers.js';

const env = (k: string, d: number): number => (process.env[k] !== undefined ? Number(process.env[k]) : d);
const ROUNDS = env('BENCH_ROUNDS', 3);
const ROUND_S = env('BENCH_ROUND_S', 4);
const MAX_ISOLATES = env('BENCH_MAX_ISOLATES', 3);
const CONNECTIONS = 50;
const log = (s: string): void => void process.stdout.write(`${s}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const run = wrkBinary() !== null ? wrkLoad : autocannonLoad;
const loader = wrkBinary() !== null ? 'wrk -t1' : 'autocannon';
const workloads = [
  { name: 'hello-world GET', source: HELLO, spec: {} },
  { name: '4 KiB JSON echo', source: ECHO, spec: { method: 'POST', body: JSON_4K, contentType: 'application/json' } },
  { name: '~1 ms of computation per GET', source: BUSY, spec: {} },
] as const;
const counts = Array.from({ length: MAX_ISOLATES }, (_, i) => i + 1);

interface Row {
  workload: string;
  isolates: number;
  reqPerSec: number;
  p99: number;
  errors: number;
  ratio: number;
  /** Cores busy during the rounds (medians): the whole machine, the worker's main thread, its other threads (isolates, GC, libuv). */
  machineCores: number;
  mainCores: number;
  otherCores: number;
  top: string;
}
const rows: Row[] = [];
const svc = await startService(['--workers', '1']);
try {
  await new Promise((r) => setTimeout(r, 500));
  const worker = childrenOf(svc.proc.pid ?? 0)[0] ?? 0;
  for (const w of workloads) {
    // Every setting deployed side by side on the one worker; rounds alternate between them.
    const servers = await Promise.all(counts.map((n) => svc.deploy(w.source, { limits: { isolates: n } })));
    const at = (port: number, durationS: number): LoadSpec => ({ ...w.spec, url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, durationS });
    for (const s of servers) await run(at(s.port, 2));
    const rounds: Array<Array<LoadResult | null>> = [];
    const cpus: Array<Array<{ machineCores: number; mainCores: number; otherCores: number; top: string }>> = counts.map(() => []);
    for (let i = 0; i < ROUNDS; i++) {
      const round: Array<LoadResult | null> = [];
      for (const [j, s] of servers.entries()) {
        const { value, ...cpu } = await cpuDuring(worker, () => run(at(s.port, ROUND_S)));
        round.push(value);
        cpus[j]?.push(cpu);
      }
      rounds.push(round);
      log(`  ${w.name} round ${i + 1}: ${round.map((r, j) => `isolates ${j + 1}: ${Math.round(r?.reqPerSec ?? 0)} req/s p99 ${r?.p99 ?? NaN} ms (${JSON.stringify(cpus[j]?.[i])})`).join(' | ')}`);
    }
    for (let j = 0; j < counts.length; j++) {
      const of = rounds.map((r) => r[j]).filter((r): r is LoadResult => r !== null && r !== undefined);
      rows.push({
        workload: w.name,
        isolates: j + 1,
        reqPerSec: median(of.map((r) => r.reqPerSec)),
        p99: median(of.map((r) => r.p99)),
        errors: of.reduce((n, r) => n + r.errors, 0),
        ratio: median(rounds.map((r) => (r[j]?.reqPerSec ?? NaN) / (r[0]?.reqPerSec ?? NaN))),
        machineCores: median((cpus[j] ?? []).map((c) => c.machineCores)),
        mainCores: median((cpus[j] ?? []).map((c) => c.mainCores)),
        otherCores: median((cpus[j] ?? []).map((c) => c.otherCores)),
        top: cpus[j]?.[Math.floor(ROUNDS / 2)]?.top ?? '',
      });
    }
    for (const s of servers) await fetch(`${svc.url}/servers/${s.httpdid}`, { method: 'DELETE' });
  }
} finally {
  await svc.stop();
}
const table = [
  '| workload | isolates | req/s | p99 ms | errors | ÷ isolates 1 | machine cores busy | worker main thread | worker other threads (busiest) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rows.map(
    (r) =>
      `| ${r.workload} | ${r.isolates} | ${Math.round(r.reqPerSec)} | ${r.p99} | ${r.errors} | ${r.ratio.toFixed(2)}× | ${r.machineCores.toFixed(2)} | ${r.mainCores.toFixed(2)} | ${r.otherCores.toFixed(2)} (${r.top}) |`,
  ),
].join('\n');
log(table);
writeResult({ loader, connections: CONNECTIONS, rounds: ROUNDS, roundSeconds: ROUND_S, rows });
writeSection(
  'isolates',
  `## Isolate scaling

\`bench/isolates.bench.ts\` (\`npm run bench:isolates\`): one sandbox worker (\`--workers 1\`) hosting the same handler ${counts.length} times, with \`limits.isolates\` ${counts.join(', ')}, loaded in turn with ${loader} (${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${ROUND_S} s after a 2 s warm-up each); figures are medians, "÷ isolates 1" the median of the per-round ratios. CPU columns are cores busy over each round, from \`/proc\` (1.00 = one core the whole round): the machine as a whole (the load generator included), the worker's main thread (accepting, parsing, writing) and its other threads (isolated-vm's isolate threads, V8's GC helpers, libuv).

${machineLines()}
${table}
`,
);
