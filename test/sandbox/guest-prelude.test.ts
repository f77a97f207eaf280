// The guest prelude (src/sandbox/guest/prelude/index.js) in a real isolate: the globals it installs and how, what it exports, and that tenant code tampering with intrinsics afterwards cannot reach what the prelude captured.

import t from 'tap';
import { loadGuest } from '../helpers/guest.js';

const ENTRY = `
import * as prelude from './prelude/index.js';
import { fill } from './prelude/array-fill.js';
export const exports = () => Object.keys(prelude);
export const drain = () => prelude.drainLogs();
export const decode = (bytes) => prelude.utf8Decode(new Uint8Array(bytes), false);
export const installedFill = () => String(Array.prototype.fill) === String(fill) && Array.prototype.fill.name === 'fill';
`;

const GLOBALS = ['console', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'btoa', 'atob', 'fetch'];

t.test('the globals: installed as the platform installs its own (writable, configurable, not enumerable)', async (t) => {
  const g = await loadGuest(t, ENTRY);
  const shapes = await g.run<string>(
    `JSON.stringify(${JSON.stringify(GLOBALS)}.map((n) => { const d = Object.getOwnPropertyDescriptor(globalThis, n); return [n, typeof d.value, d.writable, d.enumerable, d.configurable]; }))`,
  );
  t.same(
    JSON.parse(shapes),
    GLOBALS.map((n) => [n, n === 'console' ? 'object' : 'function', true, false, true]),
  );
  const fillShape = await g.run<string>(`JSON.stringify(Object.getOwnPropertyDescriptor(Array.prototype, 'fill'), (k, v) => typeof v === 'function' ? v.name : v)`);
  t.same(JSON.parse(fillShape), { value: 'fill', writable: true, enumerable: false, configurable: true });
  // The prelude is compiled as one module (src/sandbox/guest-bundle.ts): its fill is its own copy of array-fill.js's.
  t.ok(await g.call('installedFill'), 'Array.prototype.fill is the chunked fill');
  t.same(await g.run('Object.keys(globalThis).join()'), '', 'no enumerable global added');
});

t.test(
  'exports: drainLogs, setConsoleTag, setFetchHost, incomingRequest, responseParts, utf8Decode, the captured intrinsics and the memory overrun for the bootstrap, setUrlLoader for the host, nothing else',
  async (t) => {
    const g = await loadGuest(t, ENTRY);
    t.same(await g.call('exports'), [
      'I',
      'bare',
      'drainLogs',
      'forgetTimers',
      'incomingRequest',
      'nd',
      'responseParts',
      'setConsoleTag',
      'setFetchHost',
      'setTimerHost',
      'setUrlLoader',
      'streamIterator',
      'takeMemoryOverrun',
      'utf8Decode',
    ]);
    t.same(await g.call('decode', [0x68, 0xc3, 0xa9]), 'hé');
    await g.run(`console.log('from', { the: 'global' }); console.error(new Error('e').message)`);
    t.same(await g.call('drain'), [
      ['log', 'from {"the":"global"}'],
      ['error', 'e'],
    ]);
  },
);

t.test('code that replaces intrinsics after the prelude changes only its own view, not the prelude', async (t) => {
  const g = await loadGuest(t, ENTRY);
  await g.run(`
    Function.prototype.call = Function.prototype.apply = function () { throw new Error('tampered call'); };
    Array.isArray = () => false;
    Math.trunc = Math.min = Math.max = () => { throw new Error('tampered math'); };
    Object.freeze = (o) => o;
    Object.defineProperty = () => { throw new Error('tampered defineProperty'); };
    undefined;
  `);
  const filled = await g.run<string>(`Reflect.apply(Array.prototype.join, Reflect.apply(Array.prototype.fill, new Array(70000), [1, 69998]).slice(69996), ['|'])`);
  t.equal(filled, '||1|1', 'the fill still fills, chunked, with the intrinsics it captured');
  t.same(await g.run(`Object.isFrozen(console)`), true);
  t.same(await g.run(`typeof btoa('x') + typeof new TextEncoder().encode('x').length`), 'stringnumber');
  await g.run(`console.log('after', 1)`);
  t.same(await g.call('drain'), [['log', 'after 1']]);
  await g.run(`globalThis.btoa = () => 'mine'; undefined`);
  t.equal(await g.run(`btoa('x')`), 'mine', 'a global is the tenant’s to replace');
});
