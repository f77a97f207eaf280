// Hostile: resizable ArrayBuffers and growable SharedArrayBuffers (memory V8 reserves outside the allocator isolated-vm counts) cannot hold more than memoryMb: over it 503 `memory` and a fresh isolate; SharedArrayBuffer is not there at all; the neighbour keeps answering and the worker's RSS stays bounded.

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile, statsWhen } from './helpers.js';

const MiB = 1048576;

t.test('resizable and growable buffers', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { httpdid, port } = await svc.deploy(
    hostile(`(r) => {
      const reply = (message) => ({ version: '1.1', statuscode: 200, headers: {}, message });
      if (r.path === '/resize') { globalThis.b = new ArrayBuffer(1, { maxByteLength: 512 * ${MiB} }); b.resize(512 * ${MiB}); new Uint8Array(b).fill(1); return reply('held ' + b.byteLength); }
      if (r.path === '/many') { globalThis.all = []; for (let i = 0; i < 100; i++) { const x = new ArrayBuffer(0, { maxByteLength: 8 * ${MiB} }); x.resize(8 * ${MiB}); all.push(x); } return reply('held'); }
      if (r.path === '/transfer') { globalThis.t1 = new ArrayBuffer(1, { maxByteLength: 20 * ${MiB} }); globalThis.t2 = t1.transfer(); globalThis.t3 = new ArrayBuffer(1, { maxByteLength: 20 * ${MiB} }); return reply('held'); }
      if (r.path === '/small') { const x = new ArrayBuffer(4, { maxByteLength: ${MiB} }); x.resize(1024); return reply(x.byteLength + ' ' + x.resizable + ' ' + x.maxByteLength); }
      if (r.path === '/sab') return reply(typeof SharedArrayBuffer + ' ' + typeof Atomics.waitAsync);
      if (r.path === '/shared-wasm') { try { new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }); return reply('made'); } catch (e) { return reply(e.message); } }
      return { version: '1.1', statuscode: 404, headers: {}, message: '' };
    }`),
    { memoryMb: 32, timeoutMs: 5000 },
  );
  for (const path of ['/resize', '/many', '/transfer']) {
    const r = await get(port, path);
    t.equal(r.status, 503, `${path}: answered 503`);
    t.match(r.text, /memory limit \(32 MiB\)/, `${path}: names the memory limit`);
    t.equal((await get(port, '/ok')).text, 'ok 1', `${path}: a fresh isolate serves after`);
  }
  t.equal((await get(port, '/small')).text, `1024 true ${MiB}`, 'a resizable buffer within the budget works');
  t.equal((await get(port, '/sab')).text, 'undefined undefined', 'no SharedArrayBuffer, no Atomics.waitAsync');
  t.match((await get(port, '/shared-wasm')).text, /shared memories are not available/, 'no shared wasm memory');
  await c.check(t, { memoryMb: 32 });
  const stats = await statsWhen(svc.api, httpdid, (s) => s.outcomes.memory === 3);
  const show = { body: { stats } };
  t.equal(show.body.stats.outcomes.memory, 3, 'counted as memory');
});
