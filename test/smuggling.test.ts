// Request-smuggling rules (RFC 9112 §6): each ambiguous framing is refused and closed, and nothing after it is ever served.

import t from 'tap';
import { startService } from './helpers/service.js';
import { exchange, parseResponses } from './helpers/raw-http.js';

const HANDLER = `let smuggled = 0;
export default (r) => {
  if (r.path === '/smuggled') smuggled++;
  return { version: '1.1', statuscode: 200, headers: {}, message: r.path === '/count' ? String(smuggled) : 'body ' + r.datastream.text() };
};`;

const NEXT = 'GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n';
const RULES: Array<[string, string, number]> = [
  ['Content-Length with Transfer-Encoding', `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${NEXT}`, 400],
  ['Transfer-Encoding with Content-Length (other order)', `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${NEXT}`, 400],
  ['Transfer-Encoding in HTTP/1.0', `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n${NEXT}`, 400],
  ['chunked not the final coding', `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${NEXT}`, 400],
  ['a coding other than chunked', `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${NEXT}`, 501],
  ['Transfer-Encoding with obs-fold', `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${NEXT}`, 400],
  ['differing Content-Length', `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\n${NEXT}`, 400],
  ['Content-Length with a sign', `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +0\r\n\r\n${NEXT}`, 400],
  ['Content-Length in hex', `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x0\r\n\r\n${NEXT}`, 400],
  ['Content-Length with a space inside', `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0 4\r\n\r\n${NEXT}`, 400],
  ['empty Content-Length', `POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n${NEXT}`, 400],
  ['Content-Length beyond 2^53-1', `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9007199254740993\r\n\r\n${NEXT}`, 400],
  ['space before the colon', `POST / HTTP/1.1\r\nHost: h\r\nContent-Length : 0\r\n\r\n${NEXT}`, 400],
  ['bare LF line ending', `POST / HTTP/1.1\r\nHost: h\r\nX: y\nContent-Length: 0\r\n\r\n${NEXT}`, 400],
  ['bare CR in a value', `POST / HTTP/1.1\r\nHost: h\r\nX: a\rContent-Length: 0\r\n\r\n${NEXT}`, 400],
  ['NUL in a value', `POST / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\nContent-Length: 0\r\n\r\n${NEXT}`, 400],
  ['two Host fields', `GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n${NEXT}`, 400],
  ['chunk-size overflow', `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000001\r\nx\r\n0\r\n\r\n${NEXT}`, 400],
  ['chunk data not followed by CRLF', `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxx\r\n0\r\n\r\n${NEXT}`, 400],
];

t.test('smuggling attempts', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  for (const [name, input, status] of RULES) {
    const replies = parseResponses(await exchange(port, input));
    t.equal(replies.length, 1, `${name}: one answer only`);
    t.equal(replies[0]?.status, status, `${name}: ${status}`);
    t.equal(replies[0]?.headers['connection'], 'close', `${name}: and close`);
  }
  const count = parseResponses(await exchange(port, 'GET /count HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'));
  t.equal(count[0]?.body.toString(), '0', 'the smuggled request was never served');
});

t.test('what is allowed still works', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  const replies = parseResponses(
    await exchange(port, [
      'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc',
      'POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n',
      'GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
    ]),
  );
  t.same(
    replies.map((r) => r.body.toString()),
    ['body abc', 'body xyz', 'body '],
  );
});
