// The sandbox boundary alone, in one process: batches of requests through TenantSandbox.invoke (request dict in, handler, response out, checked) without sockets or HTTP, hello and 4 KiB echo; µs per request, alternating rounds. Run against two builds (`--dist DIR` twice) to see what a change of the boundary buys, side by side.

import path from 'node:path';
import { ECHO, HELLO, JSON_4K } from './handlers.js';

type SandboxModule = typeof import('../src/sandbox/tenant-sandbox.js');
type LimitsModule = typeof import('../src/core/limits.js');

const args = process.argv.slice(2);
const dists: string[] = [];
for (let i = 0; i < args.length; i++) if (args[i] === '--dist') dists.push(path.resolve(String(args[++i])));
if (dists.length === 0) dists.push(path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'dist'));
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const ROUND_MS = Number(process.env['BENCH_ROUND_MS'] ?? 1500);
const BATCH = 20;

/** A request dict as the connection builds it. */
const request = (verb: string): string =>
  JSON.stringify({
    verb,
    path: '/',
    querystr: null,
    querydict: {},
    version: '1.1',
    headers: { Host: '127.0.0.1:8080', 'User-Agent': 'wrk', ...(verb === 'POST' ? { 'Content-Type': 'application/json', 'Content-Length': '4096' } : {}) },
    httpdid: 1,
    remoteipstr: '127.0.0.1',
    remoteportnum: 50000,
  });
const bodyBytes = new TextEncoder().encode(JSON_4K);
const body = (bytes: Uint8Array) => {
  let taken = false;
  return {
    takeBuffered: () => {
      const out = taken ? new Uint8Array(0) : bytes;
      taken = true;
      return { bytes: out, complete: true };
    },
    read: async () => new Uint8Array(0),
  };
};

interface Subject {
  dist: string;
  name: string;
  run(): Promise<unknown>;
  close(): Promise<void>;
}
const subjects: Subject[] = [];
for (const dist of dists) {
  const { TenantSandbox } = (await import(path.join(dist, 'sandbox', 'tenant-sandbox.js'))) as SandboxModule;
  const { resolveLimits } = (await import(path.join(dist, 'core', 'limits.js'))) as LimitsModule;
  const limits = resolveLimits({});
  for (const [name, source, verb, bytes] of [
    ['hello', HELLO, 'GET', new Uint8Array(0)],
    ['echo', ECHO, 'POST', bodyBytes],
  ] as const) {
    const sandbox = await TenantSandbox.create(source, limits, { onCatastrophicError: () => undefined, onConsole: () => undefined });
    const json = request(verb);
    subjects.push({
      dist,
      name,
      run: () =>
        Promise.all(
          Array.from({ length: BATCH }, async () => {
            const r = await sandbox.invoke(json, body(bytes));
            if (r.outcome !== 'ok') throw new Error(`${name}: ${r.outcome}`);
          }),
        ),
      close: () => sandbox.close(),
    });
  }
}

const perRequest = new Map<Subject, number[]>();
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const s of subjects) {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ROUND_MS) {
      await s.run();
      n += BATCH;
    }
    const us = ((performance.now() - t0) * 1000) / n;
    // The first round warms up.
    if (round > 0) perRequest.set(s, [...(perRequest.get(s) ?? []), us]);
  }
}
for (const s of subjects) await s.close();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
process.stdout.write('| build | handler | µs per request (median of rounds) | rounds |\n| --- | --- | ---: | --- |\n');
for (const s of subjects) {
  const xs = perRequest.get(s) ?? [];
  process.stdout.write(`| ${s.dist} | ${s.name} | ${median(xs).toFixed(1)} | ${xs.map((x) => x.toFixed(1)).join(', ')} |\n`);
}
