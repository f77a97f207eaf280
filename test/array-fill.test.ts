// Array.prototype.fill as the prelude defines it (chunked past 65,536 elements, so a huge fill stays under memoryMb): the same results as V8's native fill, same shape.

import t from 'tap';
import { startService } from './helpers/service.js';

// Each case runs with the prelude's fill in the isolate; the expected values are this process's native fill.
const CASES: Array<[number, unknown[]]> = [
  [5, [7]],
  [5, [7, 1]],
  [5, [7, -2]],
  [5, [7, 1, 3]],
  [5, [7, 1, -1]],
  [5, [7, -10, 10]],
  [5, [7, NaN, NaN]],
  [5, [7, 3, 1]],
  [5, [7, 1.7, 3.9]],
  [5, [7, '1', '4']],
  [5, [7, undefined, undefined]],
  [5, [7, Infinity]],
  [5, [7, -Infinity, 2]],
  [200_000, [1]],
  [200_000, [2, 65_530, 131_080]],
  [200_000, [3, -70_000]],
  [200_000, [4, 10, -10]],
];

function digest(a: unknown[]): string {
  // Length, a checksum of the filled positions and both ends: enough to tell any off-by-one.
  let sum = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== undefined) sum += (i + 1) * Number(a[i]);
  return `${a.length}:${sum}:${String(a.indexOf(a.find((x) => x !== undefined)))}:${String(a.lastIndexOf(a.find((x) => x !== undefined)))}`;
}

t.test('fill matches the native fill', async (t) => {
  const svc = await startService(t);
  const source = `
const digest = ${digest.toString()};
const CASES = ${JSON.stringify(CASES.map(([n, args]) => [n, args.map((a) => (typeof a === 'number' && !Number.isFinite(a) ? String(a) : a === undefined ? '__u' : a))]))};
const revive = (a) => a === '__u' ? undefined : a === 'NaN' ? NaN : a === 'Infinity' ? Infinity : a === '-Infinity' ? -Infinity : a;
export default function handler() {
  const out = CASES.map(([n, args]) => { const a = new Array(n); const r = a.fill(...args.map(revive)); return [r === a, digest(a)]; });
  const f = Array.prototype.fill;
  const shape = [f.name, f.length, Object.getOwnPropertyDescriptor(Array.prototype, 'fill').enumerable, (() => { try { new f(); return 'constructed'; } catch (e) { return e.constructor.name; } })(),
    (() => { try { f.call(null, 1); return 'no throw'; } catch (e) { return e.constructor.name; } })(),
    JSON.stringify(f.call({ length: 3 }, 9, 1)), JSON.stringify(Array.prototype.fill.call(new Uint8Array(3), 5))];
  return { version: '1.1', statuscode: 200, headers: {}, message: JSON.stringify({ out, shape }) };
}`;
  const { port } = await svc.deploy(source);
  const body = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { out: Array<[boolean, string]>; shape: unknown[] };
  CASES.forEach(([n, args], i) => {
    const a = new Array(n);
    a.fill(...(args as [unknown, number?, number?]));
    t.same(body.out[i], [true, digest(a)], `new Array(${n}).fill(${args.map(String).join(', ')})`);
  });
  t.same(body.shape, ['fill', 1, false, 'TypeError', 'TypeError', '{"1":9,"2":9,"length":3}', '{"0":5,"1":5,"2":5}'], 'name, length, not enumerable, not a constructor, generic receivers');
});
