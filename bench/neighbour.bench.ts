// Noisy-neighbour benchmark: a server's throughput and p99 while another server on the same worker spins to its timeout, as a ratio to the server alone.

import autocannon from 'autocannon';
import { machineLines, writeResult, writeSection } from './readme-section.js';
import { startService } from './service.js';

const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? 5);
const CONNECTIONS = 20;
const SPINNERS = 4;

interface Load { reqPerSec: number; p50: number; p99: number; errors: number }

async function load(port: number): Promise<Load> {
  const r = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: DURATION_S });
  return { reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

const svc = await startService(['--workers', '1']);
try {
  const quiet = await svc.deploy("export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'hello' })");
  const spinner = await svc.deploy('export default () => { for (;;) {} }', { limits: { timeoutMs: 1000 } });
  await load(quiet.port); // warm-up
  const solo = await load(quiet.port);
  let spinning = true;
  let spun = 0;
  const spins = Array.from({ length: SPINNERS }, async () => {
    while (spinning) {
      await fetch(`http://127.0.0.1:${spinner.port}/`).then((r) => r.text(), () => '');
      spun++;
    }
  });
  const noisy = await load(quiet.port);
  spinning = false;
  await Promise.all(spins);
  const ratio = noisy.reqPerSec / solo.reqPerSec;
  const table = [
    '| run | req/s | p50 ms | p99 ms | errors |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| B alone | ${Math.round(solo.reqPerSec)} | ${solo.p50} | ${solo.p99} | ${solo.errors} |`,
    `| B while A spins (${SPINNERS} requests at a time, each to its 1 s timeout; ${spun} spun) | ${Math.round(noisy.reqPerSec)} | ${noisy.p50} | ${noisy.p99} | ${noisy.errors} |`,
    `| ratio (with / alone) | ${ratio.toFixed(2)} | | | |`,
  ].join('\n');
  process.stdout.write(`${table}\n`);
  writeResult({ connections: CONNECTIONS, durationS: DURATION_S, spinners: SPINNERS, spun, solo, noisy, ratio });
  writeSection('neighbour', `## Noisy neighbour\n\n\`bench/neighbour.bench.ts\`: one sandbox worker (\`--workers 1\`) hosting server B (hello world) and server A, whose handler spins until its 1 s timeout. B is loaded with autocannon (${CONNECTIONS} connections, ${DURATION_S} s, keep-alive) alone, then while ${SPINNERS} requests at a time keep A spinning. Goal: B keeps ≥ 0.7× its solo throughput and p99 ≤ 100 ms.\n\n${machineLines()}\n${table}\n`);
} finally {
  await svc.stop();
}
