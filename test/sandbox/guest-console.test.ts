// The guest console (src/sandbox/guest/prelude/console.js) in a real isolate: each call becomes one bounded line, the buffer keeps the newest lines and says how many it dropped.

import t from 'tap';
import { MAX_LINE_CHARS, MAX_PENDING_LINES } from '../../src/sandbox/guest-source.js';
import { loadGuest } from '../helpers/guest.js';

const ENTRY = `
import { createConsole, drainLogs, logger } from './prelude/console.js';
import { MAX_LINE_CHARS, MAX_PENDING_LINES } from 'isohttpd:constants';
const c = createConsole();
export const limits = () => [MAX_PENDING_LINES, MAX_LINE_CHARS];
export const write = (level, src) => { c[level](...new Function('return ' + src)()); return drainLogs(); };
export const many = (n) => { for (let i = 0; i < n; i++) c.log('line ' + i); return drainLogs(); };
export const drain = () => drainLogs();
export const shape = () => [Object.isFrozen(c), Object.keys(c).join(','), typeof logger('x'), 'prototype' in c.log];
`;

t.test('the limits are the host constants', async (t) => {
  const g = await loadGuest(t, ENTRY);
  t.same(await g.call('limits'), [MAX_PENDING_LINES, MAX_LINE_CHARS]);
});

t.test('arguments as text, joined by spaces', async (t) => {
  const g = await loadGuest(t, ENTRY);
  const cases: Array<[string, string]> = [
    ["['a', 'b']", 'a b'],
    ['[1, null, undefined, true]', '1 null undefined true'],
    ['[{ a: 1 }, [1, 2]]', '{"a":1} [1,2]'],
    ['[(() => { const o = {}; o.self = o; return o; })()]', '[object Object]'],
    ['[{ toJSON() { throw 1; }, toString() { throw 2; } }]', '[unprintable]'],
    ['[Symbol("s")]', 'Symbol(s)'],
    ['[]', ''],
  ];
  for (const [args, text] of cases) t.same(await g.call('write', 'log', args), [['log', text]], args);
  const [[level, err]] = await g.call<[[string, string]]>('write', 'warn', "[new TypeError('boom')]");
  t.equal(level, 'warn');
  t.match(err, /^TypeError: boom\n\s+at /, 'an error by its stack');
  const [[, noStack]] = await g.call<[[string, string]]>('write', 'error', "[(() => { const e = new RangeError('r'); e.stack = ''; return e; })()]");
  t.equal(noStack, 'RangeError: r', 'an error without a stack by name and message');
});

t.test('each level is its own method; the console is frozen', async (t) => {
  const g = await loadGuest(t, ENTRY);
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) t.same(await g.call('write', level, "['x']"), [[level, 'x']]);
  t.same(await g.call('shape'), [true, 'log,info,warn,error,debug', 'function', true], 'frozen, five methods, function expressions');
});

t.test('a line longer than MAX_LINE_CHARS is cut, with an ellipsis', async (t) => {
  const g = await loadGuest(t, ENTRY);
  const [[, text]] = await g.call<[[string, string]]>('write', 'log', `['x'.repeat(${MAX_LINE_CHARS + 10})]`);
  t.equal(text.length, MAX_LINE_CHARS);
  t.ok(text.endsWith('x...'));
  const [[, exact]] = await g.call<[[string, string]]>('write', 'log', `['x'.repeat(${MAX_LINE_CHARS})]`);
  t.equal(exact.length, MAX_LINE_CHARS, 'exactly MAX_LINE_CHARS is kept whole');
  t.notOk(exact.endsWith('...'));
  // The arguments after the line is full are not even shown.
  const [[, joined]] = await g.call<[[string, string]]>('write', 'log', `['a'.repeat(${MAX_LINE_CHARS + 1}), { toJSON() { throw new Error('shown'); } }]`);
  t.equal(joined.length, MAX_LINE_CHARS);
});

t.test('past MAX_PENDING_LINES the oldest lines go, and a warning says how many', async (t) => {
  const g = await loadGuest(t, ENTRY);
  const kept = await g.call<Array<[string, string]>>('many', MAX_PENDING_LINES);
  t.equal(kept.length, MAX_PENDING_LINES, 'exactly the limit: nothing dropped');
  t.same(kept[0], ['log', 'line 0']);
  const over = await g.call<Array<[string, string]>>('many', MAX_PENDING_LINES + 5);
  t.equal(over.length, MAX_PENDING_LINES + 1);
  t.same(over[0], ['warn', `[isohttpd] 5 console lines dropped (more than ${MAX_PENDING_LINES} in one request)`]);
  t.same(over[1], ['log', 'line 5'], 'the oldest kept');
  t.same(over.at(-1), ['log', `line ${MAX_PENDING_LINES + 4}`]);
  t.same(await g.call('drain'), [], 'a drain empties the buffer and resets the count');
});
