// The guest URLSearchParams and URL facade (src/sandbox/guest/prelude/url-search-params.js, url.js) in a real isolate: URLSearchParams against Node's, URL loaded through the host's loader on first use, once.

import { readFileSync } from 'node:fs';
import ivm from 'isolated-vm';
import t from 'tap';
import { loadGuest } from '../helpers/guest.js';

/** The whatwg-url bundle `npm run build` writes (tests run after the build). */
const BUNDLE = readFileSync(new URL('../../dist/sandbox/whatwg-url.bundle.js', import.meta.url), 'utf8');

const ENTRY = `
import { setUrlLoader, URL } from './prelude/url.js';
import { URLSearchParams } from './prelude/url-search-params.js';
const attempt = (f) => { try { return ['ok', f()]; } catch (e) { return ['throws', e.name, e.message]; } };
export { setUrlLoader };
export const params = (init, ops) => {
  const p = init === '__none' ? new URLSearchParams() : new URLSearchParams(init);
  const out = [p.toString(), p.size];
  for (const [op, ...args] of ops) { const r = p[op](...args); out.push(r === undefined ? null : r, p.toString()); }
  const seen = []; p.forEach(function (v, k, self) { seen.push([k, v, self === p, this]); }, 'this');
  return [out, [...p], [...p.keys()], [...p.values()], seen];
};
export const pairs = (init) => attempt(() => [...new URLSearchParams(init)]);
export const url = (input, base) => attempt(() => { const u = base === undefined ? new URL(input) : new URL(input, base); return [u.href, u.origin, u.protocol, u.host, u.pathname, u.search, u.hash]; });
export const noArgs = () => [attempt(() => new URL()), attempt(() => URL.canParse()), URL.parse('nope'), URL.parse.length, URL.canParse.length];
export const linked = () => {
  const u = new URL('http://h/p?a=1&b=2');
  u.searchParams.append('c', '3 4');
  const afterAppend = u.href;
  u.search = '?x=9';
  return [afterAppend, [...u.searchParams], String(u), JSON.stringify({ u }), Object.prototype.toString.call(u)];
};
`;

t.test('URLSearchParams: the results of Node’s, operation by operation', async (t) => {
  const g = await loadGuest(t, ENTRY);
  const cases: Array<[unknown, Array<[string, ...unknown[]]>]> = [
    [
      '__none',
      [
        ['append', 'a', 1],
        ['append', 'a', 'x y'],
      ],
    ],
    [
      '?a=1&b=2&a=3',
      [
        ['get', 'a'],
        ['getAll', 'a'],
        ['has', 'a', '3'],
        ['has', 'a', '4'],
        ['delete', 'a', '1'],
        ['set', 'b', 'z'],
        ['delete', 'a'],
      ],
    ],
    [
      'q=%E2%82%AC+%zz&&=e&k',
      [
        ['get', 'q'],
        ['get', ''],
        ['get', 'k'],
        ['get', 'missing'],
      ],
    ],
    ['b=2&a=1&c=0&a=0', [['sort'], ['set', 'a', 'one']]],
    [
      [
        ['x', '1'],
        ['y', '€ ~*-._'],
      ],
      [['append', 'sp ace', '+&=']],
    ],
    [{ k: 'v', n: 2 }, [['set', 'k', 'w']]],
  ];
  for (const [init, ops] of cases) {
    const p = init === '__none' ? new URLSearchParams() : new URLSearchParams(init as string);
    const out: unknown[] = [p.toString(), p.size];
    for (const [op, ...args] of ops) {
      const r = (p as unknown as Record<string, (...a: unknown[]) => unknown>)[op]?.(...args);
      out.push(r === undefined ? null : r, p.toString());
    }
    const seen: unknown[] = [];
    p.forEach(function (this: unknown, v, k, self) {
      seen.push([k, v, self === p, String(this)]);
    }, 'this');
    t.same(await g.call('params', init, ops), [out, [...p], [...p.keys()], [...p.values()], seen], `${JSON.stringify(init)} ${JSON.stringify(ops)}`);
  }
  t.same(await g.call('pairs', [['a']]), ['throws', 'TypeError', 'Each query pair must be an iterable [name, value] tuple']);
});

t.test('URL without a loader: a TypeError, not a crash', async (t) => {
  const g = await loadGuest(t, ENTRY);
  t.same(await g.call('url', 'http://h/'), ['throws', 'TypeError', 'URL is not available here']);
});

t.test('URL through the loader: parsed by whatwg-url, searchParams linked, the bundle fetched once', async (t) => {
  const g = await loadGuest(t, ENTRY);
  let loads = 0;
  const set = (await g.entry.namespace.get('setUrlLoader', { reference: true })) as ivm.Reference<(r: unknown) => void>;
  await set.apply(undefined, [
    new ivm.Reference(() => {
      loads++;
      return BUNDLE;
    }),
  ]);
  // A second loader is ignored: the first one stays.
  await set.apply(undefined, [new ivm.Reference(() => 'throw new Error("second loader")')]);
  t.same(await g.call('noArgs'), [
    ['throws', 'TypeError', "Failed to construct 'URL': 1 argument required, but only 0 present."],
    ['throws', 'TypeError', "Failed to execute 'canParse' on 'URL': 1 argument required, but only 0 present."],
    null,
    2,
    2,
  ]);
  t.equal(loads, 1, 'the first use fetched the bundle');
  for (const [input, base] of [
    ['https://user:pw@EXAMPLE.com:8443/a/../b?q=1#h', undefined],
    ['../x?y', 'http://h/a/b/c'],
    ['http://[::1]:80/', undefined],
    ['http://bücher.example/ä', undefined],
  ] as Array<[string, string | undefined]>) {
    const u = base === undefined ? new URL(input) : new URL(input, base);
    t.same(await g.call('url', input, base), ['ok', [u.href, u.origin, u.protocol, u.host, u.pathname, u.search, u.hash]], input);
  }
  t.same(await g.call('url', 'not a url'), ['throws', 'TypeError', 'Invalid URL: not a url']);
  t.same(await g.call('linked'), ['http://h/p?a=1&b=2&c=3+4', [['x', '9']], 'http://h/p?x=9', '{"u":"http://h/p?x=9"}', '[object URL]']);
  t.equal(loads, 1, 'fetched once per isolate');
});
