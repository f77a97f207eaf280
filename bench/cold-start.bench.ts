// Cold start, where the time goes: a deploy's instantiation with and without a ready isolate (alternating, in one process), and a deploy through the service split into POST, first GET and the client's own HTTP floor.

import http from 'node:http';
import { machineLines, writeResult, writeSection } from './readme-section.js';
import { startService } from './service.js';

type SandboxModule = typeof import('../src/sandbox/tenant-sandbox.js');
type PoolModule = typeof import('../src/sandbox/ready-pool.js');
const { TenantSandbox } = (await import(new URL('../dist/sandbox/tenant-sandbox.js', import.meta.url).href)) as SandboxModule;
const { ReadyIsolate, usePool, closePool } = (await import(new URL('../dist/sandbox/ready-pool.js', import.meta.url).href)) as PoolModule;

const RUNS = Number(process.env['COLD_RUNS'] ?? 40);
const HELLO = "export default function handler(r) { return { version: '1.1', statuscode: 200, headers: { 'Content-Type': 'text/plain' }, message: 'hello world' }; }";
const hooks = { onCatastrophicError: (): void => undefined, onConsole: (): void => undefined };
// The service's default limits (schemas/limits.json), so that the pool serves them.
const limits = { memoryMb: 64, timeoutMs: 1000, maxResponseBytes: 10 * 1024 * 1024, maxResponseHeaderFields: 100, maxResponseHeaderBytes: 65536 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
const f2 = (x: number): string => x.toFixed(2);
const unique = (i: number): string => `${HELLO}\n// deploy ${i} ${Math.random()}`;

// In-process: the same unique sources, alternately on a ready isolate from the pool and on a fresh one.
const prepare: number[] = [];
for (let i = 0; i < 10; i++) {
  const t0 = performance.now();
  const r = await ReadyIsolate.prepare(limits, () => undefined);
  prepare.push(performance.now() - t0);
  r.dispose();
}
let pool = usePool(limits, 2, () => undefined, 0);
const pooled: number[] = [];
const fresh: number[] = [];
for (let i = 0; i < RUNS; i++) {
  await sleep(60);
  await pool.settled();
  let t0 = performance.now();
  const a = await TenantSandbox.create(unique(i), limits, hooks);
  pooled.push(performance.now() - t0);
  await a.close();
  const taken = pool.taken;
  closePool();
  t0 = performance.now();
  const b = await TenantSandbox.create(unique(i + RUNS), limits, hooks);
  fresh.push(performance.now() - t0);
  await b.close();
  if (taken !== 1) throw new Error(`the pooled deploy did not take a ready isolate (${taken} taken)`);
  pool = usePool(limits, 2, () => undefined, 0);
}
closePool();

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

// Through the service: one worker, deploys 100 ms apart (the pool refilled in between).
const svc = await startService(['--workers', '1']);
const apiPort = Number(new URL(svc.url).port);
const floor: number[] = [];
const post: number[] = [];
const firstGet: number[] = [];
const secondGet: number[] = [];
const total: number[] = [];
try {
  for (let i = 0; i < 3; i++) {
    const { httpdid, port } = await svc.deploy(unique(-i - 1));
    await get(port, '/');
    await fetch(`${svc.url}/servers/${httpdid}`, { method: 'DELETE' });
  }
  for (let i = 0; i < RUNS; i++) {
    await sleep(100);
    let t0 = performance.now();
    await get(apiPort, '/healthz');
    floor.push(performance.now() - t0);
    t0 = performance.now();
    const { httpdid, port } = await svc.deploy(unique(i));
    const t1 = performance.now();
    const status = await get(port, '/');
    const t2 = performance.now();
    await get(port, '/');
    const t3 = performance.now();
    if (status !== 200) throw new Error(`cold start: the new server answered ${status}`);
    post.push(t1 - t0);
    firstGet.push(t2 - t1);
    secondGet.push(t3 - t2);
    total.push(t2 - t0);
    await fetch(`${svc.url}/servers/${httpdid}`, { method: 'DELETE' });
  }
} finally {
  await svc.stop();
}

const figures = {
  runs: RUNS,
  prepareP50: pct(prepare, 50),
  instantiate: { pooledP50: pct(pooled, 50), pooledP99: pct(pooled, 99), freshP50: pct(fresh, 50), freshP99: pct(fresh, 99) },
  service: {
    healthzP50: pct(floor, 50),
    postP50: pct(post, 50),
    postP99: pct(post, 99),
    firstGetP50: pct(firstGet, 50),
    secondGetP50: pct(secondGet, 50),
    totalP50: pct(total, 50),
    totalP99: pct(total, 99),
  },
};
console.log(JSON.stringify(figures));
writeResult(figures);
const s = figures.service;
const i = figures.instantiate;
writeSection(
  'cold-start',
  `## Cold start, where the time goes

\`bench/cold-start.bench.ts\` (\`npm run bench:cold\`). First in one process, ${RUNS} times each, alternating: \`TenantSandbox.create\` of a hello-world
handler with a unique comment (no code cache for it) on a ready isolate taken from the pool (src/sandbox/ready-pool.ts: context, heap guard and prelude
already made) and on a fresh one. Then through the service (one worker, deploys 100 ms apart so the pool has refilled): \`POST /servers\` until its
\`201\`, the first \`GET /\` on a new connection, a second \`GET /\` on another new connection (what any request costs the client here), and
\`GET /healthz\` of the API (the floor of one HTTP exchange with a new connection from this client).

${machineLines()}
| step | p50 ms | p99 ms |
| --- | ---: | ---: |
| ready isolate made (\`ReadyIsolate.prepare\`, off the deploy's path) | ${f2(figures.prepareP50)} | |
| instantiate on a fresh isolate | ${f2(i.freshP50)} | ${f2(i.freshP99)} |
| instantiate on a ready isolate | ${f2(i.pooledP50)} | ${f2(i.pooledP99)} |
| \`GET /healthz\` (client floor) | ${f2(s.healthzP50)} | |
| \`POST /servers\` → 201 | ${f2(s.postP50)} | ${f2(s.postP99)} |
| first \`GET /\` of the new server | ${f2(s.firstGetP50)} | |
| second \`GET /\` (new connection) | ${f2(s.secondGetP50)} | |
| POST → first 200 | ${f2(s.totalP50)} | ${f2(s.totalP99)} |
`,
);
