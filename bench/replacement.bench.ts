// Isolate replacement cost: instantiating a server's isolate from source the first time, then again from V8's code cache (what a timeout or memory outcome costs).

import { readFileSync } from 'node:fs';
import { machineLines, writeResult, writeSection } from './readme-section.js';

type SandboxModule = typeof import('../src/sandbox/tenant-sandbox.js');
const { TenantSandbox } = (await import(new URL('../dist/sandbox/tenant-sandbox.js', import.meta.url).href)) as SandboxModule;

const RUNS = 50;
const hooks = { onCatastrophicError: (): void => undefined, onConsole: (): void => undefined };
const limits = { memoryMb: 64, timeoutMs: 1000, maxResponseBytes: 10 * 1024 * 1024, maxResponseHeaderFields: 100, maxResponseHeaderBytes: 65536 };
const sources: Array<[string, string]> = [
  ['hello.js', readFileSync(new URL('../examples/hello.js', import.meta.url), 'utf8')],
  ['notes-api.js', readFileSync(new URL('../examples/notes-api.js', import.meta.url), 'utf8')],
];

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const rows: string[] = [];
const figures: Array<{ handler: string; firstP50: number; firstP99: number; replacementP50: number; replacementP99: number }> = [];
for (const [name, src] of sources) {
  // A unique comment makes the first compile of each round a cold one.
  const cold: number[] = [];
  const cached: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const unique = `${src}\n// run ${i} ${Math.random()}`;
    let t0 = performance.now();
    const first = await TenantSandbox.create(unique, limits, hooks);
    cold.push(performance.now() - t0);
    await first.close();
    t0 = performance.now();
    const again = await TenantSandbox.create(unique, limits, hooks);
    cached.push(performance.now() - t0);
    await again.close();
  }
  figures.push({ handler: name, firstP50: pct(cold, 50), firstP99: pct(cold, 99), replacementP50: pct(cached, 50), replacementP99: pct(cached, 99) });
  rows.push(`| ${name} | ${pct(cold, 50).toFixed(2)} | ${pct(cold, 99).toFixed(2)} | ${pct(cached, 50).toFixed(2)} | ${pct(cached, 99).toFixed(2)} |`);
}
// What a client sees: a request that times out, then the next request to the same server, which
// waits for the replacement isolate; against a request on a warm isolate.
const SPIN = "export default (r) => { if (r.path === '/spin') for (;;) {} return { version: '1.1', statuscode: 200, headers: {}, message: 'ok' }; }";
const emptyBody = { takeBuffered: () => ({ bytes: new Uint8Array(0), complete: true }), read: async () => new Uint8Array(0) };
const req = (p: string): string => JSON.stringify({ verb: 'GET', path: p, querystr: null, querydict: {}, version: '1.1', headers: {}, httpdid: 1, remoteipstr: '127.0.0.1', remoteportnum: 1 });
const sandbox = await TenantSandbox.create(SPIN, { ...limits, timeoutMs: 100 }, hooks);
const after: number[] = [];
let failed = 0;
const warm: number[] = [];
for (let i = 0; i < RUNS + 1; i++) {
  const spun = await sandbox.invoke(req('/spin'), emptyBody);
  if (spun.outcome !== 'timeout') throw new Error(`expected a timeout, got ${spun.outcome}`);
  let t0 = performance.now();
  const first = await sandbox.invoke(req('/'), emptyBody);
  const t = performance.now() - t0;
  t0 = performance.now();
  const second = await sandbox.invoke(req('/'), emptyBody);
  const w = performance.now() - t0;
  if (first.outcome !== 'ok' || second.outcome !== 'ok') failed++;
  // The very first replacement has no standby yet.
  else if (i > 0) {
    after.push(t);
    warm.push(w);
  }
  await new Promise((r) => setTimeout(r, 20));
}
await sandbox.close();
const swap = { p50: pct(after, 50), p99: pct(after, 99), warmP50: pct(warm, 50), warmP99: pct(warm, 99), failed };
const swapTable = [
  '| request | p50 ms | p99 ms |',
  '| --- | ---: | ---: |',
  `| first request after a timeout (replacement from the standby) | ${swap.p50.toFixed(2)} | ${swap.p99.toFixed(2)} |`,
  `| a request on a warm isolate | ${swap.warmP50.toFixed(2)} | ${swap.warmP99.toFixed(2)} |`,
  ...(failed > 0 ? [`| runs not timed (a request did not answer ok) | ${failed} | |`] : []),
].join('\n');

const table = ['| handler | first instantiation p50 ms | p99 ms | replacement (code cache) p50 ms | p99 ms |', '| --- | ---: | ---: | ---: | ---: |', ...rows].join('\n');
process.stdout.write(`${table}\n\n${swapTable}\n`);
writeResult({ runs: RUNS, figures, swap });
writeSection(
  'replacement',
  `## Isolate replacement\n\n\`bench/replacement.bench.ts\`: a fresh isolate with the prelude, the handler and the bootstrap modules, evaluated and checked (\`TenantSandbox.create\`), ${RUNS} times per handler: first from source, then again from V8's code cache, which is what replacing an isolate costs when nothing is ready for it. Since a server that has had a fatal outcome (timeout, memory) keeps a standby isolate instantiated (one more idle isolate's memory for such servers only), a replacement is a swap: the second table times, ${RUNS} times, the first request after a request that timed out (100 ms limit; 20 ms apart; runs where either request did not answer \`ok\` under the loaded machine are counted, not timed) against a request on a warm isolate, through \`TenantSandbox.invoke\`. Goal: under 10 ms.\n\n${machineLines()}\n${table}\n\n${swapTable}\n`,
);
