// One subtest per listener limit from schemas/limits.json: each refused with its status while bytes arrive, and the connection closed.

import net from 'node:net';
import t from 'tap';
import { startService, type Service, type Teardown } from './helpers/service.js';
import { exchange, parseResponses } from './helpers/raw-http.js';

const HANDLER = "export default (r) => ({ version: '1.1', statuscode: 200, headers: {}, message: 'len ' + r.datastream.read().length })";

async function deployed(t: Teardown, limits: Record<string, number>): Promise<{ svc: Service; port: number }> {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER, limits);
  return { svc, port };
}

/** Writes `head`, then reads what arrives: the answer must come without the rest of the request. */
function answerWithout(port: number, head: string): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ reply, closed: false });
    }, 5000);
    s.on('connect', () => s.write(head));
    s.on('data', (d) => {
      reply += d.toString('latin1');
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ reply, closed: true });
    });
  });
}

t.test('request line: 414 for a long target, 400 otherwise', async (t) => {
  const { port } = await deployed(t, { maxRequestLineBytes: 256 });
  const long = await answerWithout(port, `GET /${'a'.repeat(300)}`);
  t.match(long.reply, /^HTTP\/1\.1 414 URI Too Long\r\n/);
  t.ok(long.closed);
  const method = await answerWithout(port, `${'A'.repeat(300)}`);
  t.match(method.reply, /^HTTP\/1\.1 400 /);
  const ok = parseResponses(await exchange(port, `GET /${'a'.repeat(200)} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`));
  t.equal(ok[0]?.status, 200, 'within the limit');
});

t.test('header section: 431', async (t) => {
  const { port } = await deployed(t, { maxHeaderBytes: 1024 });
  const r = await answerWithout(port, `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'v'.repeat(1100)}`);
  t.match(r.reply, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  t.match(r.reply, /\r\nConnection: close\r\n/);
  t.ok(r.closed);
});

t.test('header fields: 431', async (t) => {
  const { port } = await deployed(t, { maxHeaderFields: 5 });
  const fields = Array.from({ length: 6 }, (_, i) => `X-${i}: v\r\n`).join('');
  const r = await answerWithout(port, `GET / HTTP/1.1\r\nHost: h\r\n${fields}`);
  t.match(r.reply, /^HTTP\/1\.1 431 /);
  const ok = parseResponses(await exchange(port, `GET / HTTP/1.1\r\nHost: h\r\nX-1: a\r\nX-2: b\r\nConnection: close\r\n\r\n`));
  t.equal(ok[0]?.status, 200, 'within the limit');
});

t.test('request body: 413 from Content-Length up front, and while chunks arrive', async (t) => {
  const { port } = await deployed(t, { maxBodyBytes: 1000 });
  const up = await answerWithout(port, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n');
  t.match(up.reply, /^HTTP\/1\.1 413 Content Too Large\r\n/, 'refused before any body byte');
  t.ok(up.closed);
  const chunked = await answerWithout(port, `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n${'a'.repeat(512)}\r\n200\r\n`);
  t.match(chunked.reply, /^HTTP\/1\.1 413 /, 'refused at the chunk that crosses the limit');
  const ok = parseResponses(await exchange(port, `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n${'b'.repeat(1000)}`));
  t.equal(ok[0]?.body.toString(), 'len 1000', 'exactly at the limit');
});

t.test('headers timeout: 408 and close', async (t) => {
  const { port } = await deployed(t, { headersTimeoutMs: 300, requestTimeoutMs: 5000 });
  const r = await answerWithout(port, 'GET / HTTP/1.1\r\nHost: h\r\n');
  t.match(r.reply, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  t.match(r.reply, /request headers not received in time/);
  t.ok(r.closed);
});

t.test('whole request timeout: 408 and close while the body trickles', async (t) => {
  const { port } = await deployed(t, { headersTimeoutMs: 5000, requestTimeoutMs: 400 });
  const r = await answerWithout(port, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc');
  t.match(r.reply, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  t.match(r.reply, /request not received in time/);
  t.ok(r.closed);
});

t.test('idle keep-alive: the connection is closed', async (t) => {
  const { port } = await deployed(t, { keepAliveTimeoutMs: 300 });
  const r = await answerWithout(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  t.equal(parseResponses(Buffer.from(r.reply, 'latin1'))[0]?.status, 200);
  t.ok(r.closed, 'closed by the server once idle');
  const silent = await answerWithout(port, '');
  t.equal(silent.reply, '', 'a connection that never sends is closed without an answer');
  t.ok(silent.closed);
});

t.test('open connections per server: 503 and close beyond the limit', async (t) => {
  const { port } = await deployed(t, { maxConnections: 3, keepAliveTimeoutMs: 5000 });
  const held: net.Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    held.push(s);
  }
  await new Promise((r) => setTimeout(r, 100));
  const r = await answerWithout(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  t.match(r.reply, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  t.ok(r.closed);
  for (const s of held) s.destroy();
  await new Promise((r) => setTimeout(r, 200));
  const after = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'));
  t.equal(after[0]?.status, 200, 'served again once connections close');
});

t.test('pipelined requests waiting: a burst beyond the queue is still answered, in order', async (t) => {
  const { port } = await deployed(t, { maxPipelinedRequests: 2 });
  const burst = Array.from({ length: 30 }, (_, i) => `POST /${i} HTTP/1.1\r\nHost: h\r\nContent-Length: ${i}\r\n\r\n${'x'.repeat(i)}`).join('');
  const replies = parseResponses(await exchange(port, `${burst}GET /end HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`));
  t.same(
    replies.map((r) => r.body.toString()),
    [...Array.from({ length: 30 }, (_, i) => `len ${i}`), 'len 0'],
  );
});
