// Host and request-target syntax through the real service: absolute-form's authority is the handler's Host, HTTP/1.2 is served as 1.1, bad Host values and targets get 400.

import t from 'tap';
import { example, startService } from './helpers/service.js';
import { exchange, parseResponses, type RawResponse } from './helpers/raw-http.js';

/** One request on its own connection: the one response to it. */
async function one(port: number, head: string): Promise<RawResponse> {
  const responses = parseResponses(await exchange(port, head, { idleMs: 2000 }));
  if (responses.length !== 1) throw new Error(`${responses.length} responses to ${JSON.stringify(head)}`);
  return responses[0] as RawResponse;
}

/** The request dict echo.js sent back. */
function dictOf(res: RawResponse): { path: string; querystr: string | null; querydict: Record<string, string | null>; version: string; headers: Record<string, string> } {
  return JSON.parse(res.body.toString()) as ReturnType<typeof dictOf>;
}

t.test('host and target syntax, end to end', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(example('echo.js'));

  t.test('absolute-form: the target authority is the Host, its path and query are the request', async (t) => {
    const res = await one(port, 'GET http://a.example/x?y=1 HTTP/1.1\r\nHost: b.example\r\nConnection: close\r\n\r\n');
    t.equal(res.status, 200);
    const d = dictOf(res);
    t.equal(d.path, '/x');
    t.equal(d.querystr, 'y=1');
    t.same(d.querydict, { y: '1' });
    t.same(d.headers, { Host: 'a.example', Connection: 'close' }, "the client's Host b.example is replaced (RFC 9112 §3.2.2)");
  });

  t.test('absolute-form with a port and no path, on HTTP/1.0 without Host', async (t) => {
    const res = await one(port, 'GET HTTP://a.example:8080?q HTTP/1.0\r\n\r\n');
    t.equal(res.status, 200);
    const d = dictOf(res);
    t.equal(d.path, '/', 'the empty path is /');
    t.equal(d.querystr, 'q');
    t.same(d.headers, { Host: 'a.example:8080' }, 'the authority is the Host');
  });

  t.test('HTTP/1.2 is processed and answered as HTTP/1.1', async (t) => {
    const raw = await exchange(port, 'GET /a HTTP/1.2\r\nHost: h\r\n\r\nGET /b HTTP/1.2\r\nHost: h\r\nConnection: close\r\n\r\n', { idleMs: 2000 });
    const [a, b] = parseResponses(raw);
    t.match(a?.statusLine, /^HTTP\/1\.1 200 /);
    t.equal(a === undefined ? '' : dictOf(a).version, '1.1', 'version "1.1" in the dict');
    t.equal(a?.headers.connection, undefined, 'kept alive, as 1.1');
    t.equal(b === undefined ? '' : dictOf(b).path, '/b', 'the second request on the connection is served');
    const res = await one(port, 'GET / HTTP/2.0\r\nHost: h\r\n\r\n');
    t.equal(res.status, 505, 'another major version is still 505');
  });

  t.test('valid neighbours are served', async (t) => {
    const cases: Array<[string, string, (d: ReturnType<typeof dictOf>) => void]> = [
      ['an IPv6 literal and port', 'GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n', (d) => t.equal(d.headers['Host'], '[::1]:8080')],
      ['an IPv4 address and port', 'GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n', (d) => t.equal(d.headers['Host'], '127.0.0.1:80')],
      ['percent-encoding and an empty query', 'GET /a%41? HTTP/1.1\r\nHost: h\r\n\r\n', (d) => t.same([d.path, d.querystr], ['/a%41', ''])],
      ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n', (d) => t.equal(d.path, '*')],
      ['an empty Host', 'GET / HTTP/1.1\r\nHost:\r\n\r\n', (d) => t.equal(d.headers['Host'], '')],
    ];
    for (const [what, head, check] of cases) {
      const res = await one(port, head.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
      t.equal(res.status, 200, what);
      if (res.status === 200) check(dictOf(res));
    }
  });

  t.test('bad Host values and targets get 400 with a reason, and the connection is closed', async (t) => {
    const cases: Array<[string, string, RegExp]> = [
      ['Host: a, b', 'GET / HTTP/1.1\r\nHost: a, b\r\n\r\n', /invalid Host: a list/],
      ['Host: user@x', 'GET / HTTP/1.1\r\nHost: user@x\r\n\r\n', /invalid Host: userinfo/],
      ['Host: x/path', 'GET / HTTP/1.1\r\nHost: x/path\r\n\r\n', /invalid Host: a path/],
      ['Host: x y', 'GET / HTTP/1.1\r\nHost: x y\r\n\r\n', /invalid Host: whitespace/],
      ['Host: \\xffa\\xff', 'GET / HTTP/1.1\r\nHost: \xffa\xff\r\n\r\n', /invalid Host: non-ASCII/],
      ['GET /a#frag', 'GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n', /fragment in request target/],
      ['GET /a\\b', 'GET /a\\b HTTP/1.1\r\nHost: h\r\n\r\n', /invalid character in request target/],
      ['GET /%zz', 'GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n', /malformed percent-encoding/],
      ['userinfo in absolute-form', 'GET http://u@a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n', /userinfo/],
    ];
    for (const [what, head, reason] of cases) {
      const res = await one(port, head);
      t.equal(res.status, 400, what);
      t.match(res.body.toString(), reason, `${what}: the reason`);
      t.equal(res.headers.connection, 'close', `${what}: Connection: close`);
    }
  });

  t.ok((await fetch(`http://127.0.0.1:${port}/`)).ok, 'the server still serves');
});
