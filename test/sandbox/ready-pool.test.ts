// src/sandbox/ready-pool.ts: ready isolates (prelude evaluated, no tenant code) are handed to deploys with matching limits only, once each, refilled after; an isolate from the pool serves like a fresh one and holds nothing of an earlier tenant.

import t from 'tap';
import { instantiate } from '../../src/sandbox/isolate-instance.js';
import { closePool, ReadyIsolate, ReadyPool, readyIsolate, usePool } from '../../src/sandbox/ready-pool.js';

const LIMITS = { memoryMb: 64, timeoutMs: 1000, maxResponseBytes: 1 << 20, maxResponseHeaderFields: 100, maxResponseHeaderBytes: 65536 };
const HOOKS = { onCatastrophicError: (): void => undefined, onConsole: (): void => undefined };
const lost = (): void => undefined;

/** Runs one request through an instance's dispatchBatch; the result's text. */
async function get(inst: Awaited<ReturnType<typeof instantiate>>, path: string): Promise<unknown> {
  const batch = [JSON.stringify({ verb: 'GET', path }), 1, new Uint8Array(0), true, null];
  const [results] = await inst.dispatchBatch.apply(undefined, [batch, [], []], { arguments: { copy: true }, result: { copy: true }, timeout: 1000 });
  return results;
}

t.test('take: one isolate per take, none for other limits, refilled after', async (t) => {
  const pool = new ReadyPool(LIMITS, 2, lost, 0);
  t.teardown(() => pool.close());
  await pool.settled();
  t.equal(pool.size, 2, 'filled to its size');
  t.equal(pool.take({ ...LIMITS, memoryMb: 128 }), null, 'another memory limit: none');
  t.equal(pool.take({ ...LIMITS, maxResponseBytes: 1000 }), null, 'another response limit: none');
  t.equal(pool.size, 2, 'a refused take leaves the pool as it was');
  const a = pool.take({ memoryMb: 64, maxResponseBytes: 1 << 20, maxResponseHeaderFields: 100, maxResponseHeaderBytes: 65536 });
  const b = pool.take(LIMITS);
  t.type(a, ReadyIsolate, 'the limits the key holds (not the time limit)');
  t.type(b, ReadyIsolate);
  t.not(a?.isolate, b?.isolate, 'two takes, two isolates');
  t.equal(pool.take(LIMITS), null, 'empty: none');
  t.equal(pool.taken, 2);
  a?.dispose();
  b?.dispose();
  await pool.settled();
  t.equal(pool.size, 2, 'refilled');
});

t.test('close disposes what it holds and stops refilling', async (t) => {
  const pool = new ReadyPool(LIMITS, 1, lost, 0);
  await pool.settled();
  const held = pool.take(LIMITS);
  t.ok(held);
  held?.dispose();
  pool.close();
  await pool.settled();
  t.equal(pool.size, 0);
  t.equal(pool.take(LIMITS), null);
});

t.test('a deploy on a pooled isolate serves, and the pool gives the next deploy a fresh isolate', async (t) => {
  const pool = usePool(LIMITS, 2, lost);
  t.teardown(closePool);
  await new Promise((r) => setTimeout(r, 600));
  await pool.settled();
  t.equal(pool.size, 2);
  // Module state of the first tenant: must not be seen by the second.
  const first = await instantiate('globalThis.leak = "first"; let n = 0; export default (r) => ({ statuscode: 200, message: String(++n) + " " + r.path });', LIMITS, HOOKS, async () => null, true);
  t.equal(pool.taken, 1, 'the deploy took a ready isolate');
  const second = await instantiate('export default () => ({ statuscode: 200, message: String(globalThis.leak) });', LIMITS, HOOKS, async () => null, true);
  t.equal(pool.taken, 2);
  t.not(first.isolate, second.isolate);
  t.match(await get(first, '/a'), [['ok', /"statuscode":200/, '1 /a']]);
  t.match(await get(first, '/b'), [['ok', /"statuscode":200/, '2 /b']]);
  t.match(await get(second, '/'), [['ok', /"statuscode":200/, 'undefined']], 'nothing of the first tenant in the second isolate');
  first.isolate.dispose();
  second.isolate.dispose();
});

t.test('not pooled (a replacement or standby): prepares its own isolate, the pool untouched', async (t) => {
  const pool = usePool(LIMITS, 1, lost);
  t.teardown(closePool);
  await new Promise((r) => setTimeout(r, 600));
  await pool.settled();
  const inst = await instantiate('export default () => ({ statuscode: 204 });', LIMITS, HOOKS, async () => null);
  t.equal(pool.taken, 0);
  t.equal(pool.size, 1);
  inst.isolate.dispose();
});

t.test('a source error on a pooled isolate disposes it; the next deploy gets another', async (t) => {
  const pool = usePool(LIMITS, 1, lost);
  t.teardown(closePool);
  await new Promise((r) => setTimeout(r, 600));
  await pool.settled();
  const ready = pool.take(LIMITS);
  t.ok(ready);
  ready?.dispose();
  await pool.settled();
  await t.rejects(
    instantiate('export default 1;', LIMITS, HOOKS, async () => null, true),
    { name: 'SourceError', message: /default export must be a function/ },
  );
  t.equal(pool.taken, 2);
  await pool.settled();
  t.equal(pool.size, 1, 'refilled after the failed deploy');
});

t.test('readyIsolate without a pool for the limits: prepared now, and a lost isolate reaches the claimer', async (t) => {
  closePool();
  const seen: string[] = [];
  const ready = await readyIsolate(LIMITS, (m) => seen.push(`first ${m}`));
  t.type(ready, ReadyIsolate);
  ready.claim((m) => seen.push(`claimed ${m}`));
  t.equal(seen.length, 0);
  ready.dispose();
  t.ok(ready.isolate.isDisposed);
});
