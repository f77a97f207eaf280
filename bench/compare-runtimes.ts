// `npm run bench:compare -- BEFORE.json AFTER.json`: two bench/results.json files side by side (e.g. the same commit's benchmarks on two runtimes, run one after the other on one machine), written as the `runtime` section of bench/README.md.

import { readFileSync } from 'node:fs';
import { writeSection } from './readme-section.js';

interface Load {
  reqPerSec: number;
  p99: number;
}
interface Pair {
  loader: string;
  isohttpd: Load;
  nodeHttp: Load;
  throughputRatio: number;
  p99Ratio: number;
}
interface Results {
  node: string;
  date: string;
  seconds?: number;
  label?: string;
  hello?: Pair[];
  echo?: Pair[];
  coldStart?: { p50: number; p99: number };
  density?: { answering: number; servers: number; mbPerServer: number; totalMbPerServer: number };
  neighbour?: { ratio: number; noisy: { p99: number } };
  replacement?: { figures: Array<{ handler: string; replacementP50: number; replacementP99: number }>; swap: { p50: number; p99: number } };
  codec?: { runtime: string; workloads: Array<{ workload: string; ratio: number; isohttpdReqPerSec: number }> };
}

type Row = [string, number | undefined, number | undefined, 'higher' | 'lower', string];

function rows(a: Results, b: Results): Row[] {
  const out: Row[] = [];
  for (const kind of ['hello', 'echo'] as const) {
    for (const p of a[kind] ?? []) {
      const q = b[kind]?.find((x) => x.loader === p.loader);
      const name = `${kind === 'hello' ? 'hello GET' : '4 KiB JSON echo'}, ${p.loader}`;
      out.push([`${name}: isohttpd req/s`, p.isohttpd.reqPerSec, q?.isohttpd.reqPerSec, 'higher', '']);
      out.push([`${name}: node:http req/s (same runtime)`, p.nodeHttp.reqPerSec, q?.nodeHttp.reqPerSec, 'higher', '']);
      out.push([`${name}: isohttpd ÷ node:http`, p.throughputRatio, q?.throughputRatio, 'higher', '×']);
      out.push([`${name}: p99 ÷ node:http p99`, p.p99Ratio, q?.p99Ratio, 'lower', '×']);
    }
  }
  out.push(['cold start p50 (POST → first 200)', a.coldStart?.p50, b.coldStart?.p50, 'lower', ' ms']);
  out.push(['cold start p99', a.coldStart?.p99, b.coldStart?.p99, 'lower', ' ms']);
  out.push(['density: RSS per server (workers)', a.density?.mbPerServer, b.density?.mbPerServer, 'lower', ' MB']);
  out.push(['density: RSS per server (all processes)', a.density?.totalMbPerServer, b.density?.totalMbPerServer, 'lower', ' MB']);
  out.push(['noisy neighbour: throughput ÷ solo', a.neighbour?.ratio, b.neighbour?.ratio, 'higher', '×']);
  for (const f of a.replacement?.figures ?? []) {
    const g = b.replacement?.figures.find((x) => x.handler === f.handler);
    out.push([`first request on a fresh isolate after a timeout p50 (${f.handler})`, f.replacementP50, g?.replacementP50, 'lower', ' ms']);
  }
  out.push(['first request after a timeout, standby ready, p50', a.replacement?.swap.p50, b.replacement?.swap.p50, 'lower', ' ms']);
  for (const w of a.codec?.workloads ?? []) {
    const v = b.codec?.workloads.find((x) => x.workload === w.workload);
    out.push([`codec ${w.workload}: ÷ llhttp (each on its runtime)`, w.ratio, v?.ratio, 'higher', '×']);
    out.push([`codec ${w.workload}: isohttpd req/s`, w.isohttpdReqPerSec, v?.isohttpdReqPerSec, 'higher', '']);
  }
  return out;
}

const fmt = (x: number | undefined, unit: string): string => {
  if (x === undefined || !Number.isFinite(x)) return '–';
  const v = Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2);
  return `${v}${unit}`;
};

const files = process.argv.slice(2);
if (files.length < 2 || files.length % 2 !== 0) {
  process.stderr.write('usage: npm run bench:compare -- BEFORE.json AFTER.json [BEFORE2.json AFTER2.json ...]\n');
  process.exit(2);
}
const read = (f: string): Results => JSON.parse(readFileSync(f, 'utf8')) as Results;
const pairs: Array<[Results, Results]> = [];
for (let i = 0; i < files.length; i += 2) pairs.push([read(files[i] ?? ''), read(files[i + 1] ?? '')]);
const [first] = pairs;
if (first === undefined) process.exit(2);
const tables = pairs.map(([b, a]) => rows(b, a));
// Rows are matched by name: a run without wrk, say, has fewer rows than one with it.
const lines = (tables[0] ?? []).map(([name, , , better, unit]) => {
  const cells = tables.map((t) => {
    const [, x, y] = t.find((row) => row[0] === name) ?? [name, undefined, undefined];
    const ratio = x !== undefined && y !== undefined && x !== 0 ? y / x : undefined;
    return `${fmt(x, unit)} | ${fmt(y, unit)} | ${ratio === undefined ? '–' : `${ratio.toFixed(2)}×`}`;
  });
  return `| ${name} (${better} is better) | ${cells.join(' | ')} |`;
});
const label = (r: Results): string => r.label ?? `Node ${r.node}`;
const [before, after] = first;
const head = pairs.map((_, i) => `run ${i + 1}: before | after | ÷`).join(' | ');
const order = pairs.map(([b, a], i) => `run ${i + 1}: ${b.date < a.date ? 'before first' : 'after first'} (${(b.date < a.date ? b : a).date} and ${(b.date < a.date ? a : b).date})`).join('; ');
writeSection(
  'runtime',
  `## Runtime: ${label(before)} against ${label(after)}

\`npm run bench:compare -- BEFORE.json AFTER.json …\` (\`bench/compare-runtimes.ts\`): full \`npm run bench\` runs, before
and after the change, one right after the other on the same quiet machine (${order}; the times are
the results files' stamps). "÷" is
after ÷ before; a ratio to node:http compares each isohttpd with node:http on its own runtime, so
it is the figure that survives the machine's drift; where two runs disagree, the machine moved.

| figure | ${head} |
| --- | ${pairs.map(() => '---: | ---: | ---:').join(' | ')} |
${lines.join('\n')}
`,
);
process.stdout.write(`${lines.join('\n')}\n`);
