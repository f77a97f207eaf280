// `URL` for tenant code: the WHATWG parser (whatwg-url, bundled at build time) loaded inside the isolate on first use, with searchParams linked to the prelude's URLSearchParams.

import t from 'tap';
import { startService } from './helpers/service.js';
import { get, hostile } from './hostile/helpers.js';

const PROBE = `
const tryIt = (f) => { try { return f(); } catch (e) { return [e.name, e instanceof TypeError]; } };
export default () => {
  const rel = new URL('../b/c?x=1&y=%20z#frag', 'https://user:pw@EXAMPLE.com:443/a/d');
  const v6 = new URL('http://[0:0:0:0:0:0:0:1]:8080/p');
  const idn = new URL('https://Bücher.example/ä?q=ü');
  const pct = new URL('http://h/a b/%7e?q=a b&r=%zz#x y');
  const sp = new URL('http://h/p?a=1&b=2');
  sp.searchParams.append('c', 'x y&');
  sp.searchParams.delete('a');
  const spAfterAppend = sp.href;
  sp.search = '?k=v';
  const spAfterSearch = [...sp.searchParams];
  sp.href = 'http://other/?m=n&m=o';
  const spAfterHref = sp.searchParams.getAll('m');
  sp.searchParams.delete('m');
  const out = {
    abs: (() => { const u = new URL('HTTP://Example.COM:80/a/./b/../c?q#h'); return [u.href, u.protocol, u.host, u.port, u.pathname, u.search, u.hash, u.origin]; })(),
    rel: [rel.href, rel.username, rel.password, rel.hostname, rel.port, rel.origin, rel.searchParams.get('y')],
    v6: [v6.hostname, v6.host, v6.origin],
    idn: [idn.hostname, idn.pathname, idn.search, idn.origin],
    pct: [pct.pathname, pct.search, pct.hash],
    invalid: [tryIt(() => new URL('no scheme')), tryIt(() => new URL('http://exa mple.com')), tryIt(() => new URL('/x', 'also not a base')), tryIt(() => new URL())],
    canParse: [URL.canParse('https://a'), URL.canParse('nope'), URL.canParse('/x', 'https://a'), URL.canParse('http://[::1')],
    parse: [URL.parse('nope'), String(URL.parse('b', 'http://h/a/'))],
    roundTrip: (() => { const u = new URL('https://h/p?x=1#f'); return [new URL(u.href).href === u.href, String(u), JSON.stringify({ u }), new URL(u).href]; })(),
    sp: [spAfterAppend, spAfterSearch, spAfterHref, sp.href, sp.searchParams instanceof URLSearchParams],
    types: [typeof URL, Object.prototype.toString.call(rel), rel instanceof URL],
  };
  return { version: '1.1', statuscode: 200, headers: {}, message: JSON.stringify(out) };
};`;

t.test('URL parses, serializes and keeps searchParams in step', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(PROBE);
  const res = await fetch(`http://127.0.0.1:${port}/`);
  t.equal(res.status, 200);
  const out = (await res.json()) as Record<string, unknown>;
  t.same(out['abs'], ['http://example.com/a/c?q#h', 'http:', 'example.com', '', '/a/c', '?q', '#h', 'http://example.com'], 'absolute URL, normalized');
  t.same(out['rel'], ['https://user:pw@example.com/b/c?x=1&y=%20z#frag', 'user', 'pw', 'example.com', '', 'https://example.com', ' z'], 'relative to a base');
  t.same(out['v6'], ['[::1]', '[::1]:8080', 'http://[::1]:8080'], 'IPv6 host, compressed');
  t.same(out['idn'], ['xn--bcher-kva.example', '/%C3%A4', '?q=%C3%BC', 'https://xn--bcher-kva.example'], 'IDNA host to punycode, path and query percent-encoded');
  t.same(out['pct'], ['/a%20b/%7e', '?q=a%20b&r=%zz', '#x%20y'], 'percent-encoding');
  t.same(
    out['invalid'],
    [
      ['TypeError', true],
      ['TypeError', true],
      ['TypeError', true],
      ['TypeError', true],
    ],
    'invalid input → TypeError',
  );
  t.same(out['canParse'], [true, false, true, false], 'URL.canParse');
  t.same(out['parse'], [null, 'http://h/a/b'], 'URL.parse');
  t.same(out['roundTrip'], [true, 'https://h/p?x=1#f', '{"u":"https://h/p?x=1#f"}', 'https://h/p?x=1#f'], 'href, toString, toJSON round trips');
  t.same(out['sp'], ['http://h/p?b=2&c=x+y%26', [['k', 'v']], ['n', 'o'], 'http://other/', true], 'searchParams and the URL update each other');
  t.same(out['types'], ['function', '[object URL]', true]);
});

t.test('the first URL is parsed under the tenant own limits', async (t) => {
  const svc = await startService(t);
  // The smallest heap a server may have still holds the parser.
  const small = await svc.deploy(hostile("() => ({ version: '1.1', statuscode: 200, headers: {}, message: new URL('https://ü.example/?a=1').host })"), { memoryMb: 8 });
  const r1 = await get(small.port, '/url');
  t.same([r1.status, r1.text], [200, 'xn--tda.example'], 'URL under memoryMb 8');
  t.same(await get(small.port, '/ok'), { status: 200, text: 'ok 2' }, 'same isolate, state kept');

  // Loading the parser is the tenant's own work (about 25 ms): with a 10 ms limit it cannot finish, and the
  // request times out like any other handler that spends too long; the server goes on serving.
  const tight = await svc.deploy(hostile("() => ({ version: '1.1', statuscode: 200, headers: {}, message: new URL('https://a.example/').href })"), { timeoutMs: 10 });
  const r2 = await get(tight.port, '/url');
  t.equal(r2.status, 504, 'first use of URL counted against a 10 ms time limit');
  const ok = await get(tight.port, '/ok');
  t.equal(ok.status, 200, 'the next request is served by a fresh isolate');
  // Counters reach the control process with the next heartbeat (every 250 ms).
  let timeouts = 0;
  for (let i = 0; i < 40 && timeouts === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    timeouts = (await svc.api('GET', `/servers/${tight.httpdid}`)).body.stats.outcomes.timeout as number;
  }
  t.equal(timeouts, 1, 'counted as a timeout outcome');

  // A tenant that never uses URL never loads it, and one that only tests for it does not either.
  const probe = await svc.deploy(hostile("() => ({ version: '1.1', statuscode: 200, headers: {}, message: typeof URL + ' ' + typeof URL.canParse + ' ' + URL.name })"), { timeoutMs: 20 });
  t.same(await get(probe.port, '/x'), { status: 200, text: 'function function URL' }, 'the URL global itself costs nothing');
});
