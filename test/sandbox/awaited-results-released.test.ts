// The results of promise-returning handlers are not kept in the isolate once the host has them: the bootstrap keeps each for takeSettled (an unhandled-rejection salvage) only until the next batch tells it they were received, so the heap of an async server does not grow with its traffic.

import t from 'tap';
import { resolveLimits } from '../../src/core/limits.js';
import type { BodySource } from '../../src/sandbox/body-source.js';
import { TenantSandbox } from '../../src/sandbox/tenant-sandbox.js';

const BIG = 64 * 1024;
const SOURCE = `export default async function handler() { return { version: '1.1', statuscode: 200, headers: {}, message: 'x'.repeat(${BIG}) }; }`;
const body = (): BodySource => ({ takeBuffered: () => ({ bytes: new Uint8Array(0), complete: true }), read: async () => new Uint8Array(0) });
const REQUEST = JSON.stringify({ verb: 'GET', path: '/', querystr: null, querydict: {}, version: '1.1', headers: {}, httpdid: 1, remoteipstr: '127.0.0.1', remoteportnum: 1 });

t.test('600 awaited 64 KiB responses leave the isolate heap far below what keeping them would hold', async (t) => {
  const sandbox = await TenantSandbox.create(SOURCE, resolveLimits({ memoryMb: 128 }), { onCatastrophicError: () => undefined, onConsole: () => undefined });
  t.teardown(() => sandbox.close());
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 60; i++) {
    const results = await Promise.all(Array.from({ length: 10 }, () => sandbox.invoke(REQUEST, body())));
    for (const r of results) outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
  }
  t.same(Object.fromEntries(outcomes), { ok: 600 }, 'every request answered ok');
  // One more batch tells the isolate the last results were received.
  t.equal((await sandbox.invoke(REQUEST, body())).outcome, 'ok');
  const heap = await sandbox.heapUsed();
  const kept = 600 * BIG;
  t.ok(heap > 0, `a heap figure (${heap} bytes)`);
  t.ok(heap < kept / 2, `heap ${(heap / 1e6).toFixed(1)} MB, against ${(kept / 1e6).toFixed(1)} MB if the results were kept`);
});
