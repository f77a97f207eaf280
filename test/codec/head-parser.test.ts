// Request-head parser fixtures (request line, header fields, limits), each fed whole, byte by byte and split at every position.

import t from 'tap';
import type { ErrorCode } from '../../src/core/errors.js';
import { HeadParser, type HeadResult } from '../../src/host/http1/head-parser.js';
import { splits } from '../helpers/split.js';

const LIMITS = { maxRequestLineBytes: 64, maxHeaderBytes: 128, maxHeaderFields: 4 };

interface Fixture {
  name: string;
  input: string;
  head?: { method: string; target: string; version: '1.0' | '1.1'; fields: Array<[string, string]>; rest?: string };
  fault?: ErrorCode;
}

const FIXTURES: Fixture[] = [
  { name: 'simple GET', input: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', head: { method: 'GET', target: '/', version: '1.1', fields: [['Host', 'a']] } },
  { name: 'HTTP/1.0 without headers', input: 'GET /x?y HTTP/1.0\r\n\r\n', head: { method: 'GET', target: '/x?y', version: '1.0', fields: [] } },
  {
    name: 'OWS trimmed, empty value kept',
    input: 'POST /p HTTP/1.1\r\nA:\t v \t\r\nB:\r\n\r\n',
    head: {
      method: 'POST',
      target: '/p',
      version: '1.1',
      fields: [
        ['A', 'v'],
        ['B', ''],
      ],
    },
  },
  { name: 'leading empty line ignored', input: '\r\nGET / HTTP/1.1\r\n\r\n', head: { method: 'GET', target: '/', version: '1.1', fields: [] } },
  { name: 'bytes after the head are returned', input: 'GET / HTTP/1.1\r\n\r\nNEXT', head: { method: 'GET', target: '/', version: '1.1', fields: [], rest: 'NEXT' } },
  { name: 'obs-text in a value', input: 'GET / HTTP/1.1\r\nX: caf\xe9\r\n\r\n', head: { method: 'GET', target: '/', version: '1.1', fields: [['X', 'caf\xe9']] } },
  { name: 'extension method', input: 'M-SEARCH * HTTP/1.1\r\n\r\n', head: { method: 'M-SEARCH', target: '*', version: '1.1', fields: [] } },
  { name: 'absolute-form target', input: 'GET http://a.test/x HTTP/1.1\r\n\r\n', head: { method: 'GET', target: 'http://a.test/x', version: '1.1', fields: [] } },
  { name: 'bare LF after request line', input: 'GET / HTTP/1.1\nHost: a\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'bare LF after a field', input: 'GET / HTTP/1.1\r\nHost: a\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'bare CR inside a value', input: 'GET / HTTP/1.1\r\nX: a\rb\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'NUL inside a value', input: 'GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'DEL inside a value', input: 'GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'space before colon', input: 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'empty field name', input: 'GET / HTTP/1.1\r\n: a\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'no colon', input: 'GET / HTTP/1.1\r\nHost\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'obs-fold', input: 'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'two spaces after method', input: 'GET  / HTTP/1.1\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'trailing space after version', input: 'GET / HTTP/1.1 \r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'lower-case version', input: 'GET / http/1.1\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'bad version digits', input: 'GET / HTTP/1.x\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'HTTP/2.0 is well-formed but unsupported', input: 'GET / HTTP/2.0\r\n\r\n', fault: 'ISO_ERR_HTTP_VERSION_NOT_SUPPORTED' },
  { name: 'HTTP/1.2', input: 'GET / HTTP/1.2\r\n\r\n', fault: 'ISO_ERR_HTTP_VERSION_NOT_SUPPORTED' },
  { name: 'method with a separator', input: 'G(T / HTTP/1.1\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'control character in target', input: 'GET /\x01 HTTP/1.1\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'non-ASCII in target', input: 'GET /\xe9 HTTP/1.1\r\n\r\n', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  {
    name: 'request line of exactly the limit',
    input: `GET /${'a'.repeat(64 - 'GET / HTTP/1.1'.length)} HTTP/1.1\r\n\r\n`,
    head: { method: 'GET', target: `/${'a'.repeat(64 - 'GET / HTTP/1.1'.length)}`, version: '1.1', fields: [] },
  },
  { name: 'target too long', input: `GET /${'a'.repeat(80)} HTTP/1.1\r\n\r\n`, fault: 'ISO_ERR_HTTP_URI_TOO_LONG' },
  { name: 'method too long', input: `${'A'.repeat(80)} / HTTP/1.1\r\n\r\n`, fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'header section too large', input: `GET / HTTP/1.1\r\nX: ${'v'.repeat(140)}\r\n\r\n`, fault: 'ISO_ERR_HTTP_HEADERS_TOO_LARGE' },
  // Incomplete input that is already wrong is refused at once, not when its line ends.
  { name: 'incomplete: space before the first field', input: 'GET / HTTP/1.1\r\n Host: foo', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'incomplete: unsupported version', input: 'GET / HTTP/5.6', fault: 'ISO_ERR_HTTP_VERSION_NOT_SUPPORTED' },
  { name: 'incomplete: malformed version', input: 'GET / HTTX', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'incomplete: version too long', input: 'GET / HTTP/1.10', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'incomplete: bad method byte', input: 'GE\x01', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'incomplete: bad target byte', input: 'GET /a\x7f', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'incomplete: bad field-name byte', input: 'GET / HTTP/1.1\r\nHo(t', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'incomplete: bad field-value byte', input: 'GET / HTTP/1.1\r\nHost: a\x00', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'incomplete: CR not followed by LF', input: 'GET / HTTP/1.1\r\nHost: a\rb', fault: 'ISO_ERR_HTTP_BAD_REQUEST' },
  { name: 'too many fields', input: 'GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n', fault: 'ISO_ERR_HTTP_HEADERS_TOO_LARGE' },
];

function run(chunks: Buffer[]): { result: HeadResult; rest: Buffer } {
  const p = new HeadParser(LIMITS);
  let last: HeadResult = { kind: 'more' };
  const rest: Buffer[] = [];
  for (const c of chunks) {
    if (last.kind === 'head') {
      rest.push(c);
      continue;
    }
    if (last.kind === 'fault') break;
    last = p.push(c);
    if (last.kind === 'head') rest.push(last.rest);
  }
  return { result: last, rest: Buffer.concat(rest) };
}

for (const fx of FIXTURES) {
  t.test(fx.name, async (t) => {
    for (const [how, chunks] of splits(Buffer.from(fx.input, 'latin1'))) {
      const { result, rest } = run(chunks);
      if (fx.fault !== undefined) {
        t.equal(result.kind === 'fault' ? result.fault.code : result.kind, fx.fault, how);
      } else if (result.kind !== 'head') {
        t.fail(`${how}: expected a head, got ${JSON.stringify(result)}`);
      } else {
        const { rest: expectedRest = '', ...head } = fx.head ?? {};
        t.same({ ...result.head, fields: result.head.fields.map((f) => [...f]) }, head, how);
        t.equal(rest.toString('latin1'), expectedRest, `${how}: rest`);
      }
    }
  });
}

t.test('reset lets the parser take the next request', async (t) => {
  const p = new HeadParser(LIMITS);
  const a = p.push(Buffer.from('GET /a HTTP/1.1\r\n\r\n'));
  t.equal(a.kind, 'head');
  p.reset();
  t.equal(p.started, false);
  const b = p.push(Buffer.from('GET /b HTTP/1.1\r\n\r\n'));
  t.equal(b.kind === 'head' ? b.head.target : '', '/b');
});
