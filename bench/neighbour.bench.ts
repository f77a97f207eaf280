// Noisy-neighbour benchmark: a server's throughput and p99 while another server on the same worker spins to its timeout, as a ratio to the server alone.

import autocannon from 'autocannon';
import { machineLines, writeResult, writeSection } from './readme-section.js';
import { startService } from './service.js';

const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? 5);
const CONNECTIONS = 20;
const SPINNERS = 4;
/** How long A's clients run before B is measured, s: the measurement is of the steady state, not of A's first burst. */
const SETTLE_S = Number(process.env['BENCH_SETTLE_S'] ?? 5);

interface Load {
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
}

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
  let refused = 0;
  // A's clients behave like ordinary HTTP clients: a 503 with Retry-After (A over its CPU share,
  // src/host/worker/cpu-share.ts) is retried after that many seconds.
  const spins = Array.from({ length: SPINNERS }, async () => {
    while (spinning) {
      const retryAfter = await fetch(`http://127.0.0.1:${spinner.port}/`).then(
        async (r) => {
          await r.text();
          return r.status === 503 ? Number(r.headers.get('retry-after') ?? 1) : 0;
        },
        () => 0,
      );
      if (retryAfter > 0) {
        refused++;
        const until = Date.now() + retryAfter * 1000;
        while (spinning && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      } else spun++;
    }
  });
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
  const noisy = await load(quiet.port);
  spinning = false;
  await Promise.all(spins);
  const ratio = noisy.reqPerSec / solo.reqPerSec;
  const table = [
    '| run | req/s | p50 ms | p99 ms | errors |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| B alone | ${Math.round(solo.reqPerSec)} | ${solo.p50} | ${solo.p99} | ${solo.errors} |`,
    `| B while A spins (${SPINNERS} requests at a time, each to its 1 s timeout; ${spun} spun, ${refused} refused with 503 + Retry-After) | ${Math.round(noisy.reqPerSec)} | ${noisy.p50} | ${noisy.p99} | ${noisy.errors} |`,
    `| ratio (with / alone) | ${ratio.toFixed(2)} | | | |`,
  ].join('\n');
  process.stdout.write(`${table}\n`);
  writeResult({ connections: CONNECTIONS, durationS: DURATION_S, spinners: SPINNERS, spun, solo, noisy, ratio });
  writeSection(
    'neighbour',
    `## Noisy neighbour\n\n\`bench/neighbour.bench.ts\`: one sandbox worker (\`--workers 1\`) hosting server B (hello world) and server A, whose handler spins until its 1 s timeout. B is loaded with autocannon (${CONNECTIONS} connections, ${DURATION_S} s, keep-alive) alone, then while ${SPINNERS} requests at a time keep A spinning (measured after A's clients have run ${SETTLE_S} s). A has the default CPU share (\`cpuShare\` 0.5 of a core over \`cpuShareWindowMs\` 4000, \`cpuCooldownMs\` 2000): over it, its new requests are answered 503 with Retry-After, which A's clients honour. Goal: B keeps ≥ 0.7× its solo throughput and p99 ≤ 100 ms.\n\n${machineLines()}\n${table}\n`,
  );
} finally {
  await svc.stop();
}
