// Framing belongs to the server: Content-Length and Date are set by it, a handler's framing headers cannot mis-frame a response.

import t from 'tap';
import { startService } from './helpers/service.js';
import { exchange, parseResponses } from './helpers/raw-http.js';

const HANDLER = `
export default (r) => {
  switch (r.path) {
    case '/framing': return { version: '1.1', statuscode: 200, headers: {
      'Content-Length': 1, 'Transfer-Encoding': 'chunked', Connection: 'close', 'Keep-Alive': 'timeout=1', Date: 'yesterday', 'X-Num': 42 }, message: 'hello' };
    case '/bytes': return { version: '1.1', statuscode: 200, headers: { 'Content-Type': 'application/octet-stream' }, message: new Uint8Array([0, 1, 2, 255]) };
    case '/utf8': return { version: '1.1', statuscode: 200, headers: {}, message: 'é€😀' };
    case '/204': return { version: '1.1', statuscode: 204, headers: {}, message: 'ignored' };
    case '/304': return { version: '1.1', statuscode: 304, headers: { ETag: '"x"' }, message: '' };
    case '/msg': return { version: '1.1', statuscode: 299, statusmsg: 'Fine Thanks', headers: {}, message: '' };
    case '/unknown': return { version: '1.1', statuscode: 599, headers: {}, message: 'x' };
    case '/v10': return { version: '1.0', statuscode: 200, headers: {}, message: 'old' };
    case '/v09': return { version: '0.9', statuscode: 200, headers: {}, message: 'bare body' };
    case '/proto': return { version: '1.1', statuscode: 200, headers: JSON.parse('{"__proto__": "x", "constructor": "y"}'), message: 'p' };
    default: return { version: '1.1', statuscode: 200, headers: {}, message: 'default' };
  }
};`;

const req = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: h\r\n${extra}\r\n`;

t.test('server-owned framing headers', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  const [r] = parseResponses(await exchange(port, req('/framing', 'Connection: close\r\n')));
  t.equal(r?.statusLine, 'HTTP/1.1 200 OK');
  t.equal(r?.headers['content-length'], '5');
  t.equal(r?.headers['transfer-encoding'], undefined);
  t.equal(r?.headers['keep-alive'], undefined);
  t.equal(r?.headers['connection'], 'close');
  t.not(r?.headers['date'], 'yesterday');
  t.ok(!Number.isNaN(Date.parse(r?.headers['date'] ?? '')), 'Date is an HTTP date');
  t.equal(r?.headers['x-num'], '42', 'numbers are sent as decimal');
  t.equal(r?.body.toString(), 'hello');
});

t.test('bodies, bodyless statuses, reason phrases, versions', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  const all = parseResponses(await exchange(port, [req('/bytes'), req('/utf8'), req('/204'), req('/304'), req('/msg'), req('/unknown'), req('/v10'), req('/proto', 'Connection: close\r\n')]));
  t.equal(all.length, 8, 'pipelined requests answered in order on one connection');
  const [bytes, utf8, s204, s304, msg, unknown, v10, proto] = all;
  t.same([...(bytes?.body ?? [])], [0, 1, 2, 255]);
  t.equal(bytes?.headers['content-length'], '4');
  t.equal(utf8?.body.toString('utf8'), 'é€😀');
  t.equal(utf8?.headers['content-length'], String(Buffer.byteLength('é€😀')));
  t.equal(s204?.statusLine, 'HTTP/1.1 204 No Content');
  t.equal(s204?.headers['content-length'], undefined, '204 has no Content-Length');
  t.equal(s304?.headers['content-length'], undefined, '304 has no Content-Length');
  t.equal(s304?.headers['etag'], '"x"');
  t.equal(msg?.statusLine, 'HTTP/1.1 299 Fine Thanks');
  t.equal(unknown?.statusLine, 'HTTP/1.1 599 ', 'an unknown status has an empty reason');
  t.equal(v10?.statusLine, 'HTTP/1.0 200 OK');
  t.equal(v10?.headers['connection'], 'keep-alive', 'a 1.0 response on a persistent connection says so');
  t.equal(proto?.headers['__proto__'], 'x', '__proto__ is an ordinary header name');
  t.equal(proto?.headers['constructor'], 'y');
});

t.test('HEAD gets the GET headers and no body', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  const raw = await exchange(port, ['HEAD /framing HTTP/1.1\r\nHost: h\r\n\r\n', req('/utf8', 'Connection: close\r\n')]);
  const [head, next] = parseResponses(raw, new Set([0]));
  t.equal(head?.headers['content-length'], '5');
  t.equal(head?.body.length, 0);
  t.equal(next?.body.toString(), 'é€😀', 'the next response follows right after the head');
});

t.test('version 0.9 response: the body alone, then close', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  const raw = await exchange(port, req('/v09'));
  t.equal(raw.toString(), 'bare body');
});

t.test('persistent connections', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  // 1.1 keeps the connection open by default: the idle timeout, not the server, ends this exchange.
  const kept = await exchange(port, req('/'), { idleMs: 500 });
  t.equal(parseResponses(kept)[0]?.headers['connection'], undefined);
  // 1.0 closes unless asked to keep alive; then keep-alive is echoed.
  const closed = parseResponses(await exchange(port, 'GET / HTTP/1.0\r\n\r\n'));
  t.equal(closed[0]?.headers['connection'], 'close');
  const two = parseResponses(await exchange(port, ['GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 'GET /v10 HTTP/1.0\r\n\r\n']));
  t.equal(two.length, 2);
  t.equal(two[0]?.headers['connection'], 'keep-alive');
  t.equal(two[0]?.statusLine, 'HTTP/1.0 200 OK', 'never higher than 1.0 for a 1.0 request');
  t.equal(two[1]?.headers['connection'], 'close');
  // Connection is a token list, any case.
  const listed = parseResponses(await exchange(port, req('/', 'Connection: TE, CLOSE\r\n')));
  t.equal(listed[0]?.headers['connection'], 'close');
  // A client that half-closes after its request still gets the answer.
  const half = parseResponses(await exchange(port, req('/'), { halfClose: true }));
  t.equal(half[0]?.body.toString(), 'default');
});
