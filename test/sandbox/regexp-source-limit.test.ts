// The RegExp source limit (src/sandbox/guest/prelude/regexp-source.js) in a real isolate: a source longer than 8192 characters per MiB of memoryMb is refused by every way of making a RegExp from a string, before it is matched; RegExp otherwise behaves as the native one; a tenant cannot reach the native constructor through the proxy's handler.

import t, { type Test } from 'tap';
import { loadGuest } from '../helpers/guest.js';

const ENTRY = `import * as prelude from './prelude/index.js';\nexport const ok = () => typeof prelude.drainLogs;`;
/** memoryMb 8: the limit is 65,536 characters. */
const LIMIT = 8 * 8192;

async function run(t: Test, code: string): Promise<string> {
  const g = await loadGuest(t, ENTRY, { memoryMb: 8 });
  return g.run<string>(`(() => { try { return String((() => { ${code} })()); } catch (e) { return e.constructor.name + ': ' + e.message; } })()`);
}

const LONG = `'x'.repeat(${LIMIT + 1})`;

t.test('a source over the limit is refused, every way a RegExp is made from a string', async (t) => {
  for (const [what, code] of [
    ['new RegExp', `new RegExp(${LONG})`],
    ['RegExp() called', `RegExp(${LONG})`],
    ['a subclass', `class R extends RegExp {}; new R(${LONG})`],
    ['the constructor of a literal', `new (/a/.constructor)(${LONG})`],
    ['Symbol.species', `new (RegExp[Symbol.species])(${LONG})`],
    ['RegExp.prototype.compile', `/a/.compile(${LONG})`],
    ['String.prototype.match', `'x'.match(${LONG})`],
    ['String.prototype.matchAll', `'x'.matchAll(${LONG})`],
    ['String.prototype.search', `'x'.search(${LONG})`],
    ['match, an object whose toString returns it', `'x'.match({ toString: () => ${LONG} })`],
    ['matchAll, an object whose toString returns it', `'x'.matchAll({ toString: () => ${LONG} })`],
    ['search, an object whose toString returns it', `'x'.search({ toString: () => ${LONG} })`],
    ['search, a function whose toString returns it', `const f = () => 1; f.toString = () => ${LONG}; 'x'.search(f)`],
    ['search, an object whose Symbol.search getter answers nothing', `const o = { get [Symbol.search]() { return undefined; }, toString: () => ${LONG} }; 'x'.search(o)`],
    [
      'a handler trap put on Object.prototype',
      `Object.prototype.get = (target) => target; Object.prototype.construct = (target, args) => new target(...args); const re = new RegExp(${LONG}); return 'made ' + re.source.length`,
    ],
  ]) {
    t.match(await run(t, code as string), /^RangeError: RegExp source of 65537 characters is longer than this server allows \(65536/, `${what}: RangeError`);
  }
  t.equal(await run(t, `const re = /a/; try { re.compile(${LONG}); } catch {} return re.source + ' ' + re.test('a');`), '(?:) true', 'a refused compile leaves the RegExp empty, not the long source');
});

t.test('within the limit, RegExp is the native one', async (t) => {
  t.equal(await run(t, `return new RegExp('x'.repeat(${LIMIT})).source.length`), String(LIMIT), 'the longest allowed source');
  t.equal(await run(t, `return /a/ instanceof RegExp && new RegExp('a') instanceof RegExp && /a/.constructor === RegExp`), 'true', 'instanceof and constructor');
  t.equal(await run(t, `const re = /a/g; return RegExp(re) === re && RegExp(re, 'i') !== re`), 'true', 'RegExp(re) is re');
  t.equal(
    await run(t, `class R extends RegExp { exec(s) { return super.exec(s); } } const r = new R('b+'); return (r instanceof R) + ' ' + r.test('abbb') + ' ' + 'abbb'.replace(r, 'x')`),
    'true true ax',
    'subclasses',
  );
  t.equal(
    await run(t, `return 'a1b2'.split(/\\d/).join() + ' ' + [...'a1b2'.matchAll(/\\d/g)].length + ' ' + 'xay'.search('a') + ' ' + 'aXa'.match('X').index`),
    'a,b, 2 1 1',
    'split, matchAll, search, match',
  );
  t.equal(await run(t, `/(\\d)/.test('a5'); return RegExp.$1 + ' ' + RegExp.name + ' ' + RegExp.length + ' ' + typeof RegExp.prototype.exec`), '5 RegExp 2 function', 'statics and the prototype');
  t.equal(
    await run(
      t,
      `const o = { [Symbol.search](s) { return 'searched ' + s; } }; const m = { [Symbol.match]: (s) => 'matched ' + s }; return 'ab'.search(o) + ' ' + 'cd'.match(m) + ' ' + 'a1'.match({ toString: () => '\\\\d' })[0]`,
    ),
    'searched ab matched cd 1',
    "an object's own method is called, an object without one is its string",
  );
  t.equal(await run(t, `let n = 0; const o = { get [Symbol.match]() { n++; return undefined; }, toString: () => 'a' }; 'a'.match(o); return n`), '1', 'the method is read once');
  t.equal(await run(t, `return [...'a1b2'.matchAll({ toString: () => '\\\\d' })].length + ' ' + [...'aa'.matchAll(/a/g)].length`), '2 2', 'matchAll of an object: global');
  t.equal(await run(t, `'aa'.matchAll(/a/)`), 'TypeError: String.prototype.matchAll called with a non-global RegExp argument', 'matchAll of a non-global RegExp: the TypeError');
  t.match(await run(t, `String.prototype.search.call(null, 'a')`), /^TypeError: String.prototype.search called on null or undefined/, 'on null: the native TypeError');
  t.equal(await run(t, `const S = Symbol.search; Symbol.search = 1; delete String.prototype.includes; return 'ab'.search({ [S]: () => 7 })`), '7', 'no global the tenant replaces is used');
  t.equal(await run(t, `return new RegExp('(').source`), 'SyntaxError: Invalid regular expression: /(/: Unterminated group', 'a SyntaxError as before');
});
