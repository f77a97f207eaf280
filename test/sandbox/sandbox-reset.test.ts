// TenantSandbox.reset (the worker RSS backstop's action) on a real isolate: the request running is answered `memory` at once, the console told, the promise resolved once the call returned; queued requests and later ones run on a fresh isolate.

import t from 'tap';
import { resolveLimits } from '../../src/core/limits.js';
import type { BodySource } from '../../src/sandbox/body-source.js';
import { type ConsoleLines, TenantSandbox } from '../../src/sandbox/tenant-sandbox.js';

/** A request without a body. */
const EMPTY: BodySource = { takeBuffered: () => ({ bytes: new Uint8Array(0), complete: true }), read: async () => new Uint8Array(0) };
const request = (path: string): string => JSON.stringify({ verb: 'GET', path, query: {}, headers: {}, version: '1.1' });

const SOURCE = `let served = 0;
export default function handler(request) {
  served++;
  if (request.path === '/spin') { const end = Date.now() + 3000; while (Date.now() < end) {} }
  return { version: '1.1', statuscode: 200, headers: {}, message: 'served ' + served };
}`;

t.test('reset answers the running request memory, and a fresh isolate serves on', async (t) => {
  const lines: ConsoleLines[] = [];
  const sb = await TenantSandbox.create(SOURCE, resolveLimits({ timeoutMs: 5000 }), { onCatastrophicError: () => undefined, onConsole: (l) => lines.push(l) });
  t.teardown(() => sb.close());
  t.equal(sb.isolateCount, 1, 'one isolate before any reset');
  const warm = await sb.invoke(request('/'), EMPTY);
  t.equal(warm.outcome, 'ok');
  const spinning = sb.invoke(request('/spin'), EMPTY);
  await new Promise((r) => setTimeout(r, 200));
  const t0 = performance.now();
  const stopped = sb.reset('memory', 'over the budget');
  t.ok(stopped !== null, 'there was an isolate to reset');
  const r = await spinning;
  const answeredMs = performance.now() - t0;
  t.same(r, { outcome: 'memory', detail: 'over the budget' }, 'the running request is answered memory with the detail');
  t.ok(answeredMs < 1000, `at once (${answeredMs.toFixed(0)} ms), not when the handler would have returned`);
  await stopped;
  t.ok(performance.now() - t0 < 2500, 'the call returned once the isolate stopped');
  t.same(lines.flat(), [['error', '[isohttpd] over the budget; the isolate was reset']], 'the tenant console is told');
  const after = await sb.invoke(request('/'), EMPTY);
  t.equal(after.outcome, 'ok');
  t.equal(after.outcome === 'ok' ? Buffer.from(after.response.body).toString() : '', 'served 1', 'served by a fresh isolate');
  t.equal(sb.isolateCount, 2, 'the replacement keeps a standby');

  // Queued requests (submitted in the same turn as the reset) go to the replacement.
  const queued = sb.invoke(request('/'), EMPTY);
  t.ok(sb.reset('memory', 'again') !== null);
  const q = await queued;
  t.equal(q.outcome, 'ok', 'a request queued at the reset runs on the replacement');

  await sb.close();
  t.equal(sb.reset('memory', 'closed'), null, 'nothing to reset once closed');
  t.equal(sb.isolateCount, 0);
});
