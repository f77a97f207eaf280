// Request-decoder fixtures (framing, bodies, chunked coding, pipelining, smuggling rules), each fed whole, byte by byte and split at every position.

import t from 'tap';
import type { ErrorCode } from '../../src/core/errors.js';
import { resolveLimits } from '../../src/core/limits.js';
import { RequestDecoder } from '../../src/host/http1/request-decoder.js';
import { splits } from '../helpers/split.js';

const LIMITS = resolveLimits({ maxBodyBytes: 64, maxHeaderBytes: 256, maxHeaderFields: 8, maxRequestLineBytes: 128 });

interface Expected {
  method: string;
  target: string;
  version: '0.9' | '1.0' | '1.1';
  body: string;
  keepAlive?: boolean;
}

interface Fixture {
  name: string;
  input: string;
  /** The requests decoded, in order. */
  requests: Expected[];
  /** The fault after them, if any. */
  fault?: ErrorCode;
  /** 100-continue wanted by a head. */
  continues?: number;
}

const H = 'Host: h\r\n';
const GET = (target = '/'): Expected => ({ method: 'GET', target, version: '1.1', body: '' });

const FIXTURES: Fixture[] = [
  // Content-Length bodies
  { name: 'Content-Length body', input: `POST /p HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`, requests: [{ method: 'POST', target: '/p', version: '1.1', body: 'hello', keepAlive: true }] },
  { name: 'Content-Length with leading zeros', input: `PUT / HTTP/1.1\r\n${H}Content-Length: 003\r\n\r\nabc`, requests: [{ method: 'PUT', target: '/', version: '1.1', body: 'abc' }] },
  {
    name: 'identical Content-Length list is one value',
    input: `POST / HTTP/1.1\r\n${H}Content-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc`,
    requests: [{ method: 'POST', target: '/', version: '1.1', body: 'abc' }],
  },
  { name: 'Content-Length surrounded by OWS', input: `POST / HTTP/1.1\r\n${H}Content-Length: \t2 \r\n\r\nab`, requests: [{ method: 'POST', target: '/', version: '1.1', body: 'ab' }] },
  { name: 'differing Content-Length', input: `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'Content-Length with a sign', input: `POST / HTTP/1.1\r\n${H}Content-Length: +1\r\n\r\na`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'Content-Length in hex', input: `POST / HTTP/1.1\r\n${H}Content-Length: 0x1\r\n\r\na`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'Content-Length with a space inside', input: `POST / HTTP/1.1\r\n${H}Content-Length: 1 2\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'empty Content-Length', input: `POST / HTTP/1.1\r\n${H}Content-Length:\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'Content-Length beyond 2^53-1', input: `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'incomplete head: differing Content-Length refused at once', input: 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n', requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'incomplete head: Content-Length overflow refused at once', input: 'POST / HTTP/1.1\r\nContent-Length: 1000000000000000000000\r\n', requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'Content-Length over the body limit', input: `POST / HTTP/1.1\r\n${H}Content-Length: 65\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BODY_TOO_LARGE' },
  // Transfer-Encoding and smuggling
  {
    name: 'chunked body',
    input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`,
    requests: [{ method: 'POST', target: '/', version: '1.1', body: 'hello world' }],
  },
  {
    name: 'chunked: hex sizes in both cases, zeros-prefixed last chunk',
    input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\nB\r\nabcdefghijk\r\n000\r\n\r\n`,
    requests: [{ method: 'POST', target: '/', version: '1.1', body: '0123456789abcdefghijk' }],
  },
  {
    name: 'chunked: extensions (token and quoted values)',
    input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2;a;b=c;d="x \\" ;y"\r\nok\r\n0;last\r\n\r\n`,
    requests: [{ method: 'POST', target: '/', version: '1.1', body: 'ok' }],
  },
  {
    name: 'chunked: trailers are read and dropped',
    input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nVary: *\r\nX-T: 1\r\n\r\n`,
    requests: [{ method: 'POST', target: '/', version: '1.1', body: 'x' }],
  },
  {
    name: 'chunked: coding names are case-insensitive',
    input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n`,
    requests: [{ method: 'POST', target: '/', version: '1.1', body: '' }],
  },
  { name: 'chunked: missing last-chunk', input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nfoo\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'chunked: space after size', input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3 \r\nfoo\r\n0\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'chunked: no semicolon before extension', input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3 ext\r\nfoo\r\n0\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'chunked: semicolon without a name', input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;\r\nfoo\r\n0\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'chunked: unbalanced quote in extension', input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;a="b\r\nfoo\r\n0\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  {
    name: 'chunked: extensions too long',
    input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;a=${'b'.repeat(1100)}\r\nfoo\r\n0\r\n\r\n`,
    requests: [],
    fault: 'ISO_ERR_HTTP_BAD_REQUEST',
  },
  { name: 'chunked: size overflow', input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'chunked: invalid size digit', input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\ng\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'chunked: data not followed by CRLF', input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nfooX\r\n0\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'chunked: size line ended by a bare LF', input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\nfoo\r\n0\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  {
    name: 'chunked: body over the limit while chunks arrive',
    input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n20\r\n${'a'.repeat(32)}\r\n21\r\n`,
    requests: [],
    fault: 'ISO_ERR_HTTP_BODY_TOO_LARGE',
  },
  { name: 'chunked: invalid trailer', input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nBad Name: x\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  {
    name: 'chunked: trailers over the header limit',
    input: `PUT / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX: ${'v'.repeat(300)}\r\n\r\n`,
    requests: [],
    fault: 'ISO_ERR_HTTP_HEADERS_TOO_LARGE',
  },
  {
    name: 'Content-Length and Transfer-Encoding together',
    input: `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    requests: [],
    fault: 'ISO_ERR_HTTP_BAD_REQUEST',
  },
  { name: 'Transfer-Encoding in HTTP/1.0', input: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'chunked not the final coding', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'chunked twice', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'empty Transfer-Encoding', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'a coding other than chunked', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_NOT_IMPLEMENTED' },
  { name: 'an unknown coding alone', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: pigeons\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_NOT_IMPLEMENTED' },
  { name: 'chunkedchunked is not chunked', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunkedchunked\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_NOT_IMPLEMENTED' },
  // Host
  { name: 'HTTP/1.1 without Host', input: 'GET / HTTP/1.1\r\n\r\n', requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'HTTP/1.1 with two Host fields', input: 'GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n', requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'HTTP/1.0 without Host is fine', input: 'GET / HTTP/1.0\r\n\r\n', requests: [{ method: 'GET', target: '/', version: '1.0', body: '', keepAlive: false }] },
  // Request-target forms
  { name: 'asterisk-form for OPTIONS', input: `OPTIONS * HTTP/1.1\r\n${H}\r\n`, requests: [{ method: 'OPTIONS', target: '*', version: '1.1', body: '' }] },
  { name: 'asterisk-form for GET', input: `GET * HTTP/1.1\r\n${H}\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'absolute-form', input: `GET http://h/x?y HTTP/1.1\r\n${H}\r\n`, requests: [GET('http://h/x?y')] },
  { name: 'authority-form (CONNECT) is refused', input: `CONNECT h:443 HTTP/1.1\r\n${H}\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'a target that is no form at all', input: `GET x HTTP/1.1\r\n${H}\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  // HTTP/0.9
  { name: 'HTTP/0.9 simple request', input: 'GET /old\r\n', requests: [{ method: 'GET', target: '/old', version: '0.9', body: '', keepAlive: false }] },
  { name: 'HTTP/0.9: nothing after it is read', input: 'GET /old\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n', requests: [{ method: 'GET', target: '/old', version: '0.9', body: '' }] },
  { name: 'HTTP/0.9 only as the first request of a connection', input: `GET /1 HTTP/1.1\r\n${H}\r\nGET /2\r\n`, requests: [GET('/1')], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'HTTP/0.9 is GET only', input: 'POST /old\r\n', requests: [], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  // Persistence and pipelining
  {
    name: 'pipelined requests in order',
    input: `GET /1 HTTP/1.1\r\n${H}\r\nPOST /2 HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\nabGET /3 HTTP/1.1\r\n${H}\r\n`,
    requests: [GET('/1'), { method: 'POST', target: '/2', version: '1.1', body: 'ab' }, GET('/3')],
  },
  { name: 'a fault after good requests', input: `GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\n\r\n`, requests: [GET('/1')], fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  {
    name: 'CRLF between requests',
    input: `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\n\r\nx\r\nGET /2 HTTP/1.1\r\n${H}\r\n`,
    requests: [{ method: 'POST', target: '/', version: '1.1', body: 'x' }, GET('/2')],
  },
  { name: 'Connection: close', input: `GET / HTTP/1.1\r\n${H}Connection: Keep-Alive, CLOSE\r\n\r\n`, requests: [{ ...GET(), keepAlive: false }] },
  { name: 'HTTP/1.0 keep-alive', input: 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', requests: [{ method: 'GET', target: '/', version: '1.0', body: '', keepAlive: true }] },
  // Expect
  { name: '100-continue', input: `POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 1\r\n\r\nx`, requests: [{ method: 'POST', target: '/', version: '1.1', body: 'x' }], continues: 1 },
  { name: 'another expectation', input: `POST / HTTP/1.1\r\n${H}Expect: 200-ok\r\nContent-Length: 1\r\n\r\nx`, requests: [], fault: 'ISO_ERR_HTTP_EXPECTATION_FAILED' },
  { name: 'Expect is ignored on HTTP/1.0', input: 'POST / HTTP/1.0\r\nExpect: whatever\r\nContent-Length: 1\r\n\r\nx', requests: [{ method: 'POST', target: '/', version: '1.0', body: 'x' }] },
  { name: 'no 100 when the request is refused first', input: `POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 100\r\n\r\n`, requests: [], fault: 'ISO_ERR_HTTP_BODY_TOO_LARGE' },
];

function decode(chunks: Buffer[]): { requests: Expected[]; fault: ErrorCode | null; continues: number } {
  const requests: Expected[] = [];
  let fault: ErrorCode | null = null;
  let continues = 0;
  const d = new RequestDecoder(LIMITS, {
    onStart: () => undefined,
    onHead: (_h, f) => {
      if (f.expectContinue) continues++;
    },
    onRequest: (r) => {
      requests.push({ method: r.head.method, target: r.head.target, version: r.head.version, body: Buffer.from(r.body).toString('latin1'), keepAlive: r.framing.keepAlive });
      return true;
    },
    onFault: (f) => {
      fault = f.code;
    },
  });
  for (const c of chunks) d.push(c);
  return { requests, fault, continues };
}

for (const fx of FIXTURES) {
  t.test(fx.name, async (t) => {
    for (const [how, chunks] of splits(Buffer.from(fx.input, 'latin1'))) {
      const got = decode(chunks);
      t.equal(got.fault, fx.fault ?? null, `${how}: fault`);
      t.equal(got.requests.length, fx.requests.length, `${how}: number of requests`);
      fx.requests.forEach((want, i) => t.match(got.requests[i], want, `${how}: request ${i}`));
      t.equal(got.continues, fx.continues ?? 0, `${how}: 100-continue`);
    }
  });
}

t.test('a stopped decoder hands back the bytes it did not read', async (t) => {
  const seen: string[] = [];
  const d = new RequestDecoder(LIMITS, {
    onStart: () => undefined,
    onHead: () => undefined,
    onRequest: (r) => {
      seen.push(r.head.target);
      return false;
    },
    onFault: () => t.fail('no fault'),
  });
  const rest = d.push(Buffer.from(`GET /a HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\n${H}\r\n`));
  t.same(seen, ['/a']);
  t.equal(rest.toString(), `GET /b HTTP/1.1\r\n${H}\r\n`);
  t.equal(d.push(rest).length, 0);
  t.same(seen, ['/a', '/b']);
});

t.test('bodies are exact-size buffers of their own', async (t) => {
  let body: Uint8Array | null = null;
  const d = new RequestDecoder(LIMITS, {
    onStart: () => undefined,
    onHead: () => undefined,
    onRequest: (r) => {
      body = r.body;
      return true;
    },
    onFault: () => undefined,
  });
  d.push(Buffer.from(`POST / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabcGET`));
  const b = body as Uint8Array | null;
  t.equal(b?.byteLength, 3);
  t.equal(b?.buffer.byteLength, 3, 'the buffer holds nothing else');
  t.equal(b?.byteOffset, 0);
});
