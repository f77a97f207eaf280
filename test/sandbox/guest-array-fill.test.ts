// The guest Array.prototype.fill (src/sandbox/guest/prelude/array-fill.js) in a real isolate: the native fill's results and shape, in chunks of FILL_CHUNK elements.

import t from 'tap';
import { loadGuest } from '../helpers/guest.js';

const ENTRY = `
import { FILL_CHUNK, fill } from './prelude/array-fill.js';
const native = Array.prototype.fill;
export const chunk = () => FILL_CHUNK;
// Both fills on fresh arrays of length n with the same arguments: [same result, same array, returned the array].
export const compare = (n, args) => {
  const a = new Array(n), b = new Array(n);
  const ra = fill.apply(a, args), rb = native.apply(b, args);
  let same = a.length === b.length;
  for (let i = 0; same && i < n; i++) same = (i in a) === (i in b) && Object.is(a[i], b[i]);
  return [same, ra === a, rb === b];
};
// How many native fill calls a fill of n elements makes: each reads the receiver's length once (ours reads it once too).
export const lengthReads = (n, ...args) => {
  let reads = 0;
  const p = new Proxy(new Array(n), { get(t, k, r) { if (k === 'length') reads++; return Reflect.get(t, k, r); } });
  fill.call(p, 0, ...args);
  return reads;
};
export const shape = () => [fill.name, fill.length, 'prototype' in fill, (() => { try { new fill(); return 'constructed'; } catch (e) { return e.constructor.name; } })()];
export const generic = () => [
  (() => { try { fill.call(null, 1); return 'no throw'; } catch (e) { return e.constructor.name; } })(),
  JSON.stringify(fill.call({ length: 3 }, 9, 1)),
  JSON.stringify(fill.call(new Uint8Array(3), 5)),
  typeof fill.call(5, 1),
];
`;

// NaN, ±Infinity and undefined cross into the isolate as themselves (copied arguments).
const ARGS: unknown[][] = [
  [7],
  [7, 1],
  [7, -2],
  [7, 1, 3],
  [7, 1, -1],
  [7, -10, 10],
  [7, NaN, NaN],
  [7, 3, 1],
  [7, 1.7, 3.9],
  [7, '1', '4'],
  [7, undefined, undefined],
  [7, undefined, 3],
  [7, Infinity],
  [7, -Infinity, 2],
  [7, 0, Infinity],
];

t.test('the native fill results, short and chunked', async (t) => {
  const g = await loadGuest(t, ENTRY);
  const chunk = await g.call<number>('chunk');
  t.equal(chunk, 65536);
  for (const n of [0, 5, chunk, chunk + 1, 3 * chunk + 7]) {
    for (const args of ARGS) t.same(await g.call('compare', n, args), [true, true, true], `new Array(${n}).fill(${args.map(String).join(', ')})`);
    const big = [1, chunk - 3, 2 * chunk + 5];
    t.same(await g.call('compare', n, big), [true, true, true], `new Array(${n}).fill(${big.join(', ')})`);
    t.same(await g.call('compare', n, [3, -chunk - 1]), [true, true, true], `new Array(${n}).fill(3, ${-chunk - 1})`);
  }
});

t.test('one native call up to FILL_CHUNK elements, then one per chunk', async (t) => {
  const g = await loadGuest(t, ENTRY);
  t.equal(await g.call('lengthReads', 10), 2, '10 elements: one native call');
  t.equal(await g.call('lengthReads', 65536), 2, 'FILL_CHUNK elements: one native call');
  t.equal(await g.call('lengthReads', 65537), 3, 'one more: two calls');
  t.equal(await g.call('lengthReads', 200_000), 5, '200,000 elements: four chunks');
  t.equal(await g.call('lengthReads', 200_000, 100_000, 110_000), 2, 'a short range of a long array: one call');
});

t.test('shape and generic receivers as the native fill', async (t) => {
  const g = await loadGuest(t, ENTRY);
  t.same(await g.call('shape'), ['fill', 1, false, 'TypeError'], "named 'fill', length 1, not a constructor");
  t.same(await g.call('generic'), ['TypeError', '{"1":9,"2":9,"length":3}', '{"0":5,"1":5,"2":5}', 'object']);
});

// The huge fill itself (new Array(1e9).fill(0) under memoryMb) runs in test/hostile/catastrophic-oom.test.ts, in a worker
// process: an isolate that reaches V8's own heap limit there can take its process down, which must not be this one.
