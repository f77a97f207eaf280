// Slow uploaders: N clients trickle request bodies to server U while autocannon loads body-less GETs to U itself and to a neighbour server on the same worker; throughput, p99 and errors with and without them, for U's body window on (the default) and off (bodyWindowBytes 0: the body streams while the handler reads it, the behaviour before the window).

import net from 'node:net';
import { autocannonLoad, type LoadResult } from './load.js';
import { machineLines, writeResult, writeSection } from './readme-section.js';
import { startService } from './service.js';

const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? 5);
const CONNECTIONS = 20;
const UPLOADERS = Number(process.env['BENCH_UPLOADERS'] ?? 20);
const BODY_BYTES = 4096;
/** Each uploader sends this many bytes every TRICKLE_MS: a 4 KiB body takes about 3.2 s. */
const TRICKLE_BYTES = 64;
const TRICKLE_MS = 50;
const log = (s: string): void => void process.stdout.write(`${s}\n`);

/** U reads its whole body (a POST) or answers at once (a GET); the neighbour answers at once. */
const UPLOAD = "export default (r) => ({ version: '1.1', statuscode: 200, headers: {}, message: r.verb === 'POST' ? String(r.datastream.read().length) : 'hello' })";
const HELLO = "export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'hello' })";

/** Body-less GETs to `port`, as the other throughput scenarios load them. */
function load(port: number): Promise<LoadResult> {
  return autocannonLoad({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, durationS: DURATION_S });
}

/** UPLOADERS connections, each trickling one upload after another until stopped; counts the answers by status. */
function trickle(port: number): { stop(): Promise<{ answered: Record<string, number> }> } {
  let running = true;
  const answered: Record<string, number> = {};
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let sent = 0;
      let got = '';
      let timer: NodeJS.Timeout | undefined;
      s.on('error', () => undefined);
      s.on('data', (d) => {
        got += d.toString('latin1');
      });
      s.on('close', () => {
        clearInterval(timer);
        const status = /^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? (running ? 'none' : 'stopped');
        answered[status] = (answered[status] ?? 0) + 1;
        resolve();
      });
      s.once('connect', () => {
        s.write(`POST /upload HTTP/1.1\r\nHost: u\r\nContent-Length: ${BODY_BYTES}\r\nConnection: close\r\n\r\n`);
        timer = setInterval(() => {
          if (!running) return void s.destroy();
          const n = Math.min(TRICKLE_BYTES, BODY_BYTES - sent);
          if (n > 0) s.write('x'.repeat(n));
          sent += n;
        }, TRICKLE_MS);
      });
    });
  const loops = Array.from({ length: UPLOADERS }, async (_, i) => {
    // Staggered, so that uploads start and end all the time.
    await new Promise((r) => setTimeout(r, (i * 3200) / UPLOADERS));
    while (running) await one();
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { answered };
    },
  };
}

interface Row {
  window: string;
  target: string;
  solo: LoadResult;
  loaded: LoadResult;
  uploads: Record<string, number>;
}
const rows: Row[] = [];
for (const [label, bodyWindowBytes] of [
  ['bodyWindowBytes 65536 (default)', 65536],
  ['bodyWindowBytes 0 (streaming: before the window)', 0],
] as const) {
  const svc = await startService(['--workers', '1']);
  try {
    const u = await svc.deploy(UPLOAD, { limits: { bodyWindowBytes } });
    const n = await svc.deploy(HELLO);
    for (const [target, port] of [
      ['U itself (the uploads’ server)', u.port],
      ['neighbour N (same worker)', n.port],
    ] as const) {
      await load(port); // warm-up
      const solo = await load(port);
      const uploads = trickle(u.port);
      await new Promise((r) => setTimeout(r, 3500));
      const loaded = await load(port);
      const { answered } = await uploads.stop();
      rows.push({ window: label, target, solo, loaded, uploads: answered });
      log(
        `  ${label}, GETs to ${target}: alone ${Math.round(solo.reqPerSec)} req/s p99 ${solo.p99} ms, with uploaders ${Math.round(loaded.reqPerSec)} req/s p99 ${loaded.p99} ms, ${loaded.errors} errors; uploads ${JSON.stringify(answered)}`,
      );
    }
  } finally {
    await svc.stop();
  }
}
const table = [
  '| U’s body window | GETs to | alone req/s | p99 ms | with uploaders req/s | p99 ms | errors | ÷ alone | p99 ÷ alone | uploads answered |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rows.map(
    (r) =>
      `| ${r.window} | ${r.target} | ${Math.round(r.solo.reqPerSec)} | ${r.solo.p99} | ${Math.round(r.loaded.reqPerSec)} | ${r.loaded.p99} | ${r.loaded.errors} | ${(r.loaded.reqPerSec / r.solo.reqPerSec).toFixed(2)}× | ${(r.loaded.p99 / Math.max(1, r.solo.p99)).toFixed(2)}× | ${Object.entries(
        r.uploads,
      )
        .map(([k, v]) => `${v} × ${k}`)
        .join(', ')} |`,
  ),
].join('\n');
log(table);
writeResult({ uploaders: UPLOADERS, bodyBytes: BODY_BYTES, trickleBytes: TRICKLE_BYTES, trickleMs: TRICKLE_MS, connections: CONNECTIONS, durationS: DURATION_S, rows });
writeSection(
  'slow-uploader',
  `## Slow uploaders

\`bench/slow-uploader.bench.ts\` (\`npm run bench:slow-uploader\`): one sandbox worker hosting server U, whose handler reads its body with a synchronous \`read()\`, and a hello-world neighbour N. ${UPLOADERS} clients trickle ${BODY_BYTES}-byte bodies to U (${TRICKLE_BYTES} bytes every ${TRICKLE_MS} ms, about ${((BODY_BYTES / TRICKLE_BYTES) * TRICKLE_MS) / 1000} s per upload, one after another on each client, started staggered and measured after 3.5 s) while autocannon (${CONNECTIONS} connections, ${DURATION_S} s) loads body-less GETs, once to U itself and once to N, each against the same GETs without uploaders. Once with U's default body window (the body is received before the handler starts) and once with \`bodyWindowBytes: 0\` (the body streams while the handler blocks in \`read()\`: how every body was handled before the window). ${'"÷ alone"'} is the throughput with uploaders over without; a p99 of 0 ms counts as 1 ms. Goal: 0 errors and p99 ≤ 2× alone, with the window.

${machineLines()}
${table}
`,
);
