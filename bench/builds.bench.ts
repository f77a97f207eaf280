// Two or more builds of isohttpd side by side in one run (`npm run bench:builds -- --tree OLD_CHECKOUT --tree .`): hello world and the 4 KiB echo on one worker of each, node:http in the same rotation, so that what a change bought is a before/after of the same run.

import path from 'node:path';
import { ECHO, HELLO, JSON_4K } from './handlers.js';
import { autocannonLoad, wrkBinary, wrkLoad, type LoadResult, type LoadSpec } from './load.js';
import { machineLines, writeResult, writeSection } from './readme-section.js';
import { startBaseline, startService, type BenchService } from './service.js';

const env = (k: string, d: number): number => (process.env[k] !== undefined ? Number(process.env[k]) : d);
const ROUNDS = env('BENCH_ROUNDS', 3);
const ROUND_S = env('BENCH_ROUND_S', 4);
const CONNECTIONS = 50;
const log = (s: string): void => void process.stdout.write(`${s}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const run = wrkBinary() !== null ? wrkLoad : autocannonLoad;
const loader = wrkBinary() !== null ? 'wrk -t1' : 'autocannon';

const args = process.argv.slice(2);
const trees: string[] = [];
for (let i = 0; i < args.length; i++) if (args[i] === '--tree') trees.push(path.resolve(String(args[++i])));
if (trees.length < 2) throw new Error('usage: builds.bench.ts --tree BEFORE --tree AFTER [--tree ...] (checkouts with dist/ built)');

const workloads = [
  { name: 'hello-world GET', source: HELLO, spec: {} },
  { name: '4 KiB JSON echo', source: ECHO, spec: { method: 'POST', body: JSON_4K, contentType: 'application/json' } },
] as const;

interface Row {
  workload: string;
  side: string;
  reqPerSec: number;
  p99: number;
  errors: number;
  /** Median of the per-round ratios to node:http. */
  ratio: number;
  p99Ratio: number;
}
const rows: Row[] = [];
const services: BenchService[] = [];
try {
  for (const tree of trees) services.push(await startService(['--workers', '1'], path.join(tree, 'dist', 'cli.js')));
  for (const w of workloads) {
    const base = await startBaseline(w.source);
    try {
      const ports = [base.port, ...(await Promise.all(services.map(async (s) => (await s.deploy(w.source)).port)))];
      const sides = ['node:http', ...trees.map((t) => path.basename(t))];
      const at = (port: number, durationS: number): LoadSpec => ({ ...w.spec, url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, durationS });
      for (const p of ports) await run(at(p, 2));
      const rounds: Array<Array<LoadResult | null>> = [];
      for (let i = 0; i < ROUNDS; i++) {
        const round: Array<LoadResult | null> = [];
        for (const p of ports) round.push(await run(at(p, ROUND_S)));
        rounds.push(round);
        log(`  ${w.name} round ${i + 1}: ${round.map((r, j) => `${sides[j]} ${Math.round(r?.reqPerSec ?? 0)} req/s p99 ${r?.p99 ?? NaN} ms`).join(' | ')}`);
      }
      for (const [j, side] of sides.entries()) {
        const of = rounds.map((r) => r[j]).filter((r): r is LoadResult => r !== null && r !== undefined);
        rows.push({
          workload: w.name,
          side,
          reqPerSec: median(of.map((r) => r.reqPerSec)),
          p99: median(of.map((r) => r.p99)),
          errors: of.reduce((n, r) => n + r.errors, 0),
          ratio: median(rounds.map((r) => (r[j]?.reqPerSec ?? NaN) / (r[0]?.reqPerSec ?? NaN))),
          p99Ratio: median(rounds.map((r) => (r[j]?.p99 ?? NaN) / (r[0]?.p99 ?? NaN))),
        });
      }
    } finally {
      base.proc.kill();
    }
  }
} finally {
  for (const s of services) await s.stop();
}
const table = [
  '| workload | build | req/s | p99 ms | errors | req/s ÷ node:http | p99 ÷ node:http |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.workload} | ${r.side} | ${Math.round(r.reqPerSec)} | ${r.p99} | ${r.errors} | ${r.ratio.toFixed(2)}× | ${r.p99Ratio.toFixed(2)}× |`),
].join('\n');
log(table);
writeResult({ loader, trees, rounds: ROUNDS, roundSeconds: ROUND_S, rows });
writeSection(
  'builds',
  `## Builds side by side

\`bench/builds.bench.ts\` (\`npm run bench:builds -- --tree BEFORE --tree AFTER\`): each checkout's own \`dist/cli.js serve --workers 1\` and the node:http
baseline, the same handler on each, loaded in turn with ${loader} (${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${ROUND_S} s after a 2 s
warm-up each); medians, ratios the median of the per-round ratios. Builds: ${trees.map((t) => `\`${path.basename(t)}\``).join(', ')}.

${machineLines()}
${table}
`,
);
