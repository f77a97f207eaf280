// The guest containment (src/sandbox/guest/prelude/containment.js) in a real isolate: wasm memories and resizable buffers held to the budget by their maxima, shared memory gone, no V8 tasks that run tenant code, and the platform's shapes kept.

import t, { type Test } from 'tap';
import { loadGuest } from '../helpers/guest.js';

const ENTRY = `
import * as prelude from './prelude/index.js';
export const overrun = () => prelude.takeMemoryOverrun();
`;

// (module (memory (export "m") 1)), (module (memory (export "m") 1 64)), a shared memory, a 64-bit one.
const NO_MAX = 'new Uint8Array([0,97,115,109,1,0,0,0,5,3,1,0,1,7,5,1,1,109,2,0])';
const MAX_64 = 'new Uint8Array([0,97,115,109,1,0,0,0,5,4,1,1,1,64,7,5,1,1,109,2,0])';
const SHARED = 'new Uint8Array([0,97,115,109,1,0,0,0,5,4,1,3,1,2])';
const MEM64 = 'new Uint8Array([0,97,115,109,1,0,0,0,5,3,1,4,1])';
const MiB = 1048576;

/** Runs `code` in a fresh isolate with a 32 MiB budget (512 pages); the result and whether an overrun was recorded. */
async function run(t: Test, code: string): Promise<[string, string]> {
  const g = await loadGuest(t, ENTRY, { memoryMb: 32 });
  const out = await g.run<string>(`(() => { try { return String((() => { ${code} })()); } catch (e) { return e.constructor.name + ': ' + e.message; } })()`);
  return [out, await g.call<string>('overrun')];
}

t.test('wasm memories: each clamped to the budget, all held to it by their maxima', async (t) => {
  let [out, why] = await run(t, `const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 }); m.grow(511); return m.buffer.byteLength;`);
  t.equal(out, String(512 * 65536), 'a maximum over the budget is clamped to it, growing to it works');
  t.equal(why, '');
  [out, why] = await run(t, `const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 }); m.grow(4096);`);
  t.match(out, /^RangeError: over the server's memory budget/, 'growing past it is refused');
  t.match(why, /WebAssembly\.Memory\.grow\(\)/, 'and recorded as an overrun');
  [out] = await run(t, `const m = new WebAssembly.Instance(new WebAssembly.Module(${NO_MAX})).exports.m; return m.grow(1000);`);
  t.match(out, /^RangeError/, "a module's memory without a maximum gets the budget as its maximum");
  [out] = await run(t, `const i = new WebAssembly.Instance(new WebAssembly.Module(${NO_MAX})); return i.exports.m.grow(511) + ' ' + i.exports.m.buffer.byteLength;`);
  t.equal(out, `1 ${512 * 65536}`, 'and grows to it');
  [out, why] = await run(
    t,
    `const mod = new WebAssembly.Module(${MAX_64}); const keep = []; let n = 0; try { for (; n < 100; n++) keep.push(new WebAssembly.Instance(mod)); } catch (e) { return n + ' ' + e.message; }`,
  );
  t.match(out, /^8 over the server's memory budget/, 'instances count at their maxima: 8 × 64 pages fill 512');
  t.not(why, '', 'recorded');
  [out] = await run(t, `new WebAssembly.Memory({ initial: 1, maximum: 500 }); return new WebAssembly.Memory({ initial: 1, maximum: 100 }).buffer.byteLength;`);
  t.match(out, /^RangeError: over the server's memory budget/, 'a second memory over what the first holds is refused');
});

t.test('no shared or 64-bit memory', async (t) => {
  t.match((await run(t, `new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });`))[0], /^TypeError: .*shared memories are not available/);
  t.match((await run(t, `new WebAssembly.Module(${SHARED});`))[0], /^CompileError: .*shared memories are not available/);
  t.match((await run(t, `new WebAssembly.Module(${MEM64});`))[0], /^CompileError: .*only 32-bit memories/);
  t.match((await run(t, `new WebAssembly.Memory({ initial: 1, address: 'i64' });`))[0], /^TypeError: .*only 32-bit memories/);
  t.equal((await run(t, `return [typeof SharedArrayBuffer, typeof Atomics.waitAsync, typeof WebAssembly.compileStreaming].join();`))[0], 'undefined,undefined,undefined');
  t.match(
    (await run(t, `Object.prototype.shared = true; try { return new WebAssembly.Memory({ initial: 1, maximum: 2 }).buffer.constructor.name; } finally { delete Object.prototype.shared; }`))[0],
    /shared memories are not available/,
    "a tenant's inherited `shared` is read as the platform would, and refused",
  );
});

t.test('resizable ArrayBuffers: counted at maxByteLength, transfers keep their reservation', async (t) => {
  t.equal((await run(t, `const b = new ArrayBuffer(4, { maxByteLength: ${MiB} }); b.resize(1024); return b.byteLength + ' ' + b.resizable + ' ' + b.maxByteLength;`))[0], `1024 true ${MiB}`);
  const [out, why] = await run(t, `new ArrayBuffer(1, { maxByteLength: 512 * ${MiB} });`);
  t.match(out, /^RangeError: over the server's memory budget/);
  t.match(why, /maxByteLength/);
  t.match(
    (await run(t, `const all = []; for (let i = 0; i < 10; i++) all.push(new ArrayBuffer(0, { maxByteLength: 8 * ${MiB} })); return all.length;`))[0],
    /^RangeError: over the server's memory budget/,
    'four of 8 MiB fill 32 MiB',
  );
  t.match(
    (await run(t, `const a = new ArrayBuffer(1, { maxByteLength: 20 * ${MiB} }); const b = a.transfer(); const c = b.transfer(); return new ArrayBuffer(1, { maxByteLength: 20 * ${MiB} });`))[0],
    /^RangeError: over the server's memory budget/,
    'a transferred buffer still holds its reservation',
  );
  const shape = (
    await run(
      t,
      `const a = new ArrayBuffer(8); return [a instanceof ArrayBuffer, new Uint8Array(2).buffer instanceof ArrayBuffer, a.constructor === ArrayBuffer, new Uint8Array(1).buffer.constructor === ArrayBuffer, ArrayBuffer.isView(new Uint8Array(1)), new (class X extends ArrayBuffer {})(4).byteLength, a.slice(2).byteLength, a.slice(1) instanceof ArrayBuffer, ArrayBuffer.name, ArrayBuffer.length, ArrayBuffer.prototype.transfer.name, a.transfer(16).byteLength].join();`,
    )
  )[0];
  t.equal(shape, 'true,true,true,true,true,4,6,true,ArrayBuffer,1,transfer,16', 'ArrayBuffer keeps its shape');
  t.match((await run(t, `return ArrayBuffer(1);`))[0], /^TypeError: .*requires 'new'/);
});

t.test('no V8 task runs tenant code', async (t) => {
  const g = await loadGuest(t, ENTRY, { memoryMb: 32 });
  await g.run(
    `globalThis.ran = 0; WebAssembly.compile(new Uint8Array([0,97,115,109,1,0,0,0])).then(() => { ran++; }); WebAssembly.instantiate(${MAX_64}).then((r) => { ran += r.instance.exports.m.buffer.byteLength; }); 1`,
  );
  t.equal(await g.run('ran'), 1 + 65536, 'compile and instantiate settle in the same call (synchronous compilation, then microtasks)');
  await g.run(`globalThis.called = 0; const f = new FinalizationRegistry(() => { called++; }); for (let i = 0; i < 10000; i++) f.register({ junk: new Array(100) }, i); globalThis.f = f; 1`);
  await g.isolate.getHeapStatistics();
  await g.run('new Array(1e6).fill(0).length');
  t.equal(await g.run('called'), 0, 'FinalizationRegistry callbacks never run');
  t.equal(
    await g.run(`const tok = {}; f.register({}, 1, tok); [f.unregister(tok), f.unregister(tok), String(f), typeof FinalizationRegistry].join()`),
    'true,false,[object FinalizationRegistry],function',
  );
  t.match(await g.run(`try { f.register(1, 2); } catch (e) { e.constructor.name }`), /TypeError/, 'register keeps its argument checks');
});
