// Where the throughput scenarios' p99 comes from: hello world at saturation against node:http, node:http again with one more runnable thread on the machine (a spinning process), and both at the same fixed offered load below saturation.

import { spawn } from 'node:child_process';
import { cpuDuring, childrenOf } from './cpu.js';
import { HELLO } from './handlers.js';
import { autocannonLoad, wrkBinary, wrkLoad, type LoadResult, type LoadSpec } from './load.js';
import { machineLines, writeResult, writeSection } from './readme-section.js';
import { startBaseline, startService } from './service.js';

const env = (k: string, d: number): number => (process.env[k] !== undefined ? Number(process.env[k]) : d);
const ROUNDS = env('BENCH_ROUNDS', 3);
const ROUND_S = env('BENCH_ROUND_S', 4);
/** The fixed offered load, req/s: well below what either side answers at saturation on 2 cores. */
const RATE = env('BENCH_LATENCY_RATE', 5000);
const CONNECTIONS = 50;
const log = (s: string): void => void process.stdout.write(`${s}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const saturate = wrkBinary() !== null ? wrkLoad : autocannonLoad;
const loader = wrkBinary() !== null ? 'wrk -t1' : 'autocannon';

/** One more runnable thread on the machine for as long as it runs. */
function spinner(): { stop(): void } {
  const proc = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  return { stop: () => void proc.kill('SIGKILL') };
}

interface Run {
  name: string;
  results: LoadResult[];
  machineCores: number[];
  serverCores: number[];
  otherCores: number[];
}

const svc = await startService(['--workers', '1']);
const base = await startBaseline(HELLO);
const runs: Run[] = [];
try {
  const iso = await svc.deploy(HELLO);
  await new Promise((r) => setTimeout(r, 500));
  const worker = childrenOf(svc.proc.pid ?? 0)[0] ?? 0;
  const spec = (port: number, durationS: number, rate?: number): LoadSpec => ({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, durationS, ...(rate === undefined ? {} : { rate }) });
  const plan: Array<{ name: string; pid: number; load: () => Promise<LoadResult | null>; spin?: boolean }> = [
    { name: `node:http, saturated (${loader})`, pid: base.proc.pid ?? 0, load: () => saturate(spec(base.port, ROUND_S)) },
    { name: `node:http, saturated (${loader}), one spinning process beside it`, pid: base.proc.pid ?? 0, load: () => saturate(spec(base.port, ROUND_S)), spin: true },
    { name: `isohttpd, saturated (${loader})`, pid: worker, load: () => saturate(spec(iso.port, ROUND_S)) },
    { name: `node:http, ${RATE} req/s offered (autocannon)`, pid: base.proc.pid ?? 0, load: () => autocannonLoad(spec(base.port, ROUND_S, RATE)) },
    { name: `isohttpd, ${RATE} req/s offered (autocannon)`, pid: worker, load: () => autocannonLoad(spec(iso.port, ROUND_S, RATE)) },
  ];
  for (const p of plan) runs.push({ name: p.name, results: [], machineCores: [], serverCores: [], otherCores: [] });
  await saturate(spec(base.port, 2));
  await saturate(spec(iso.port, 2));
  for (let i = 0; i < ROUNDS; i++) {
    for (const [j, p] of plan.entries()) {
      const spin = p.spin === true ? spinner() : null;
      try {
        const { value, machineCores, mainCores, otherCores } = await cpuDuring(p.pid, p.load);
        const run = runs[j];
        if (value === null || run === undefined) continue;
        run.results.push(value);
        run.machineCores.push(machineCores);
        run.serverCores.push(mainCores);
        run.otherCores.push(otherCores);
        log(`  round ${i + 1} ${p.name}: ${Math.round(value.reqPerSec)} req/s p50 ${value.p50} p99 ${value.p99} ms; cores: machine ${machineCores}, main ${mainCores}, others ${otherCores}`);
      } finally {
        spin?.stop();
      }
    }
  }
} finally {
  base.proc.kill();
  await svc.stop();
}

const rows = runs.map((r) => ({
  name: r.name,
  reqPerSec: median(r.results.map((x) => x.reqPerSec)),
  p50: median(r.results.map((x) => x.p50)),
  p99: median(r.results.map((x) => x.p99)),
  errors: r.results.reduce((n, x) => n + x.errors, 0),
  machineCores: median(r.machineCores),
  serverCores: median(r.serverCores),
  otherCores: median(r.otherCores),
}));
const first = rows[0];
const ratioTo = (p99: number): string => (first === undefined ? '' : `${(p99 / first.p99).toFixed(2)}×`);
const table = [
  '| run | req/s | p50 ms | p99 ms | p99 ÷ node:http saturated | errors | machine cores busy | server main thread | server other threads |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${Math.round(r.reqPerSec)} | ${r.p50} | ${r.p99} | ${ratioTo(r.p99)} | ${r.errors} | ${r.machineCores.toFixed(2)} | ${r.serverCores.toFixed(2)} | ${r.otherCores.toFixed(2)} |`,
  ),
].join('\n');
log(table);
writeResult({ loader, rate: RATE, connections: CONNECTIONS, rounds: ROUNDS, roundSeconds: ROUND_S, rows });
writeSection(
  'latency',
  `## Where the p99 comes from

\`bench/latency.bench.ts\` (\`npm run bench:latency\`): hello world on one sandbox worker and on the node:http baseline (same handler), ${CONNECTIONS}
connections, ${ROUNDS} alternating rounds of ${ROUND_S} s after a 2 s warm-up each; medians. At saturation (${loader}) each side answers as fast as it can,
so its p99 is the time a request queues behind the others and behind the scheduler. node:http runs on one thread, beside the load generator's one: two
runnable threads on two cores. isohttpd's worker runs two (its main thread parses and writes, the isolate's thread runs the handler) and hands every batch
between them: three runnable threads on two cores. The second row adds exactly one runnable thread (a spinning process) to node:http's run, to show what a
third thread alone does to its tail. The last two rows offer both the same fixed load (${RATE} req/s, autocannon \`overallRate\`) well below either's
saturation, where latency is service time rather than queueing. CPU columns are cores busy over each round (1.00 = one core): the machine, the server's main
thread (node:http's process, or isohttpd's worker), its other threads.

${machineLines()}
${table}
`,
);
