// Isolate replacement cost: instantiating a server's isolate from source the first time, then again from V8's code cache (what a timeout or memory outcome costs).

import { readFileSync } from 'node:fs';
import { machineLines, writeResult, writeSection } from './readme-section.js';

type SandboxModule = typeof import('../src/sandbox/tenant-sandbox.js');
const { TenantSandbox } = (await import(new URL('../dist/sandbox/tenant-sandbox.js', import.meta.url).href)) as SandboxModule;

const RUNS = 50;
const hooks = { onCatastrophicError: (): void => undefined, onConsole: (): void => undefined };
const limits = { memoryMb: 64, timeoutMs: 1000, maxResponseBytes: 10 * 1024 * 1024 };
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
const table = ['| handler | first instantiation p50 ms | p99 ms | replacement (code cache) p50 ms | p99 ms |', '| --- | ---: | ---: | ---: | ---: |', ...rows].join('\n');
process.stdout.write(`${table}\n`);
writeResult({ runs: RUNS, figures });
writeSection('replacement', `## Isolate replacement\n\n\`bench/replacement.bench.ts\`: a fresh isolate with the prelude, the handler and the bootstrap modules, evaluated and checked (\`TenantSandbox.create\`), ${RUNS} times per handler: first from source, then again from V8's code cache, which is what replacing an isolate after a timeout or memory outcome costs. Goal: under 10 ms.\n\n${machineLines()}\n${table}\n`);
