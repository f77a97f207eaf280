// Hostile: heap growth in the shapes isolated-vm's tracker reports as escaping its memory limit — a dictionary-mode object of a million long-keyed properties, a Map and a Set of millions of entries, one huge array grown by push, strings joined into one — under the smallest memoryMb is a 503 `memory` (never a fatal heap OOM of the worker), the isolate replaced, a neighbour on the same worker answering within 2 s, the worker's RSS bounded.
//
// Sources: isolated-vm#457 (an object of 1,000,000 properties under memoryLimit 8 ended the whole
// process with a fatal "Heap out of memory"; https://github.com/laverdet/isolated-vm/issues/457),
// isolated-vm#499 (MemoryLimitExceeded not raised: the isolate ran on until the process's OOM;
// https://github.com/laverdet/isolated-vm/issues/499), isolated-vm#186 (memoryLimit ignored by one fast
// allocation; https://github.com/laverdet/isolated-vm/issues/186).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile, statsWhen } from './helpers.js';

const CASES: Record<string, string> = {
  // isolated-vm#457's reproduction, held in a global.
  '/dictionary': `() => { globalThis.obj = {}; for (let i = 0; i < 1000000; i++) obj['a' + i] = 'WKEGJLWBEGJLWENGLKWENLKGNWELKGNWKLEGNLKWENGLWENGKLWENKLG' + i; return obj; }`,
  '/map': `() => { globalThis.m = new Map(); for (let i = 0; i < 1e8; i++) m.set(i, { i }); }`,
  '/set-of-strings': `() => { globalThis.s = new Set(); for (let i = 0; i < 1e8; i++) s.add('k' + i); }`,
  '/push': `() => { globalThis.a = []; for (let i = 0; i < 1e9; i++) a.push(i + 0.5); }`,
  '/join': `() => { const parts = []; for (let i = 0; i < 2e6; i++) parts.push('x'.repeat(64) + i); globalThis.j = parts.join(''); return { version: '1.1', statuscode: 200, headers: {}, message: String(j.length) }; }`,
};

t.test('heap growth shapes under the smallest memoryMb', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { httpdid, port } = await svc.deploy(
    hostile(`(r) => (${JSON.stringify(CASES)}[r.path] ? (0, eval)('(' + ${JSON.stringify(CASES)}[r.path] + ')')(r) : { version: '1.1', statuscode: 404, headers: {}, message: '' })`),
    { memoryMb: 8, timeoutMs: 10000, cpuShareWindowMs: 60000 },
  );
  for (const path of Object.keys(CASES)) {
    const r = await get(port, path);
    t.equal(r.status, 503, `${path}: 503 (${r.text.trim().slice(0, 80)})`);
    t.match(r.text, /memory limit \(8 MiB\)/, `${path}: names the memory limit`);
    const ok = await get(port, '/ok');
    t.equal(ok.status, 200, `${path}: served after`);
    t.equal(ok.text, 'ok 1', `${path}: by a fresh isolate`);
  }
  t.notMatch(svc.output(), /sandbox worker exited/, 'the worker never crashed');
  const stats = await statsWhen(svc.api, httpdid, (s) => s.outcomes.memory === Object.keys(CASES).length);
  // With a retirement among them, the retired worker's counts are read while it drains (retired-worker-stats.test.ts).
  t.equal(stats.outcomes.memory, Object.keys(CASES).length, 'each counted as memory');
  await c.check(t, { memoryMb: 8 });
});
