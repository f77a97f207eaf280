// Hostile: WebAssembly memories (grown from JavaScript, declared by a module without a maximum, many instances) cannot hold more than the server's memoryMb outside its heap; over it the request is 503 `memory` and the isolate replaced; the neighbour keeps answering and the worker's RSS stays bounded.

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile, statsWhen } from './helpers.js';

// (module (memory (export "m") 1)): a memory with no declared maximum.
const NO_MAX = '[0,97,115,109,1,0,0,0,5,3,1,0,1,7,5,1,1,109,2,0]';
// (module (memory (export "m") 1 64)): at most 4 MiB per instance.
const MAX_64 = '[0,97,115,109,1,0,0,0,5,4,1,1,1,64,7,5,1,1,109,2,0]';

const ATTACKS: Record<string, string> = {
  // Grown from JavaScript past the budget, pages touched, kept in a global.
  '/js-grow': `() => { globalThis.m = new WebAssembly.Memory({ initial: 1, maximum: 65536 }); m.grow(4096); new Uint8Array(m.buffer).fill(1); return { version: '1.1', statuscode: 200, headers: {}, message: 'held ' + m.buffer.byteLength }; }`,
  // A module's own memory, declared without a maximum, grown from inside.
  '/module-grow': `() => { const i = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(${NO_MAX}))); globalThis.keep = i; i.exports.m.grow(4096); return { version: '1.1', statuscode: 200, headers: {}, message: 'held' }; }`,
  // Many instances, each within the budget, all kept.
  '/many': `() => { const mod = new WebAssembly.Module(new Uint8Array(${MAX_64})); globalThis.all = []; for (let i = 0; i < 1000; i++) { const x = new WebAssembly.Instance(mod); x.exports.m.grow(63); all.push(x); } return { version: '1.1', statuscode: 200, headers: {}, message: 'held' }; }`,
  // Caught by the handler: the request is still a memory overrun.
  '/caught': `() => { try { globalThis.m2 = new WebAssembly.Memory({ initial: 4096 }); } catch (e) { return { version: '1.1', statuscode: 200, headers: {}, message: 'caught ' + e.message }; } }`,
};

t.test('wasm memory is held to memoryMb', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { httpdid, port } = await svc.deploy(
    hostile(`(r) => (${JSON.stringify(ATTACKS)}[r.path] ? (0, eval)('(' + ${JSON.stringify(ATTACKS)}[r.path] + ')')(r) : { version: '1.1', statuscode: 404, headers: {}, message: '' })`),
    { memoryMb: 32, timeoutMs: 5000 },
  );
  for (const path of Object.keys(ATTACKS)) {
    const r = await get(port, path);
    t.equal(r.status, 503, `${path}: answered 503`);
    t.match(r.text, /memory limit \(32 MiB\)/, `${path}: names the memory limit`);
    const ok = await get(port, '/ok');
    t.equal(ok.status, 200, `${path}: served after`);
    t.equal(ok.text, 'ok 1', `${path}: by a fresh isolate`);
  }
  // 4 × memoryMb: 2 × (heap + wasm budget).
  await c.check(t, { memoryMb: 32 });
  const stats = await statsWhen(svc.api, httpdid, (s) => s.outcomes.memory === Object.keys(ATTACKS).length);
  const show = { body: { stats } };
  t.equal(show.body.stats.outcomes.memory, Object.keys(ATTACKS).length, 'every overrun counted as memory');
  t.equal(show.body.stats.workerRestarts, 0, 'the worker never restarted');
});

t.test('wasm within the budget works', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { port } = await svc.deploy(
    hostile(`async () => {
      const { instance } = await WebAssembly.instantiate(new Uint8Array(${MAX_64}));
      const m = instance.exports.m;
      m.grow(63);
      const js = new WebAssembly.Memory({ initial: 1, maximum: 10 });
      js.grow(9);
      return { version: '1.1', statuscode: 200, headers: {}, message: m.buffer.byteLength + ' ' + js.buffer.byteLength + ' ' + (m instanceof WebAssembly.Memory) };
    }`),
    { memoryMb: 32 },
  );
  const r = await get(port, '/wasm');
  t.equal(r.status, 200);
  t.equal(r.text, `${64 * 65536} ${10 * 65536} true`);
  // A memory declared without a maximum counts at the whole budget: alone it works.
  const alone = await svc.deploy(
    hostile(
      `() => { const m = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(${NO_MAX}))).exports.m; m.grow(100); return { version: '1.1', statuscode: 200, headers: {}, message: String(m.buffer.byteLength) }; }`,
    ),
    { memoryMb: 32 },
  );
  t.equal((await get(alone.port, '/wasm')).text, String(101 * 65536), 'a memory without a maximum, alone');
});
