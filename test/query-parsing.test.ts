// querydict: split on &, percent-decoding with + as space, bare names null, last value wins.

import t from 'tap';
import { decodeComponent, mergeHeaders, parseQuery, plainRemoteIp } from '../src/host/worker/request-dict.js';

const plain = (o: Record<string, unknown>): Record<string, unknown> => ({ ...o });

t.test('parseQuery', async (t) => {
  t.same(plain(parseQuery('foo=bar&baz')), { foo: 'bar', baz: null }, 'the example from the contract');
  t.same(plain(parseQuery(null)), {});
  t.same(plain(parseQuery('')), {});
  t.same(plain(parseQuery('a=1&a=2&a=3')), { a: '3' }, 'last value wins');
  t.same(plain(parseQuery('a=&b')), { a: '', b: null }, 'empty value vs no value');
  t.same(plain(parseQuery('a+b=c+d&e%26f=g%3Dh')), { 'a b': 'c d', 'e&f': 'g=h' });
  t.same(plain(parseQuery('x=1=2')), { x: '1=2' }, 'split at the first =');
  t.same(plain(parseQuery('&&=v&a=1&')), { a: '1' }, 'empty names are skipped');
  t.equal(Object.getPrototypeOf(parseQuery('a=1')), null, 'no prototype');
  const proto = parseQuery('__proto__=x&constructor=y');
  t.equal(proto['__proto__'], 'x');
  t.equal(proto['constructor'], 'y');
});

t.test('decodeComponent', async (t) => {
  t.equal(decodeComponent('%E2%82%AC'), '€');
  t.equal(decodeComponent('100%'), '100%', 'a lone % stays');
  t.equal(decodeComponent('%zz%41'), '%zzA', 'malformed escapes stay, good ones decode');
  t.equal(decodeComponent('%FF'), '\ufffd', 'invalid UTF-8 becomes U+FFFD');
  t.equal(decodeComponent('a+b%2B'), 'a b+');
});

t.test('mergeHeaders', async (t) => {
  t.same(
    plain(
      mergeHeaders([
        ['Accept', 'a'],
        ['ACCEPT', 'b'],
        ['X', '1'],
        ['accept', 'c'],
      ]),
    ),
    { Accept: 'a, b, c', X: '1' },
  );
  t.equal(Object.getPrototypeOf(mergeHeaders([])), null);
  t.same(
    plain(
      mergeHeaders(
        [
          ['host', 'b.example'],
          ['X', '1'],
        ],
        'a.example:8080',
      ),
    ),
    { host: 'a.example:8080', X: '1' },
    "absolute-form's authority replaces the Host value, under the client's spelling",
  );
  t.same(plain(mergeHeaders([['X', '1']], 'a.example')), { X: '1', Host: 'a.example' }, 'and is added as Host when the client sent none (HTTP/1.0)');
});

t.test('plainRemoteIp', async (t) => {
  t.equal(plainRemoteIp('::ffff:127.0.0.1'), '127.0.0.1');
  t.equal(plainRemoteIp('::1'), '::1');
  t.equal(plainRemoteIp('10.0.0.1'), '10.0.0.1');
  t.equal(plainRemoteIp(undefined), '');
});
