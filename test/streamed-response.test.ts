// Streamed responses: a message that is an iterable, an async iterable or a ReadableStream is sent chunked on HTTP/1.1 (close-delimited on 1.0, bare on 0.9), written from its first chunk on, its chunk boundaries free (a UTF-8 character split over two chunks arrives whole); HEAD gets no body; keep-alive and pipelining go on after it; a Workers-style handler streams a Response over a ReadableStream.

import net from 'node:net';
import t from 'tap';
import { exchange } from './helpers/raw-http.js';
import { startService } from './helpers/service.js';

const HANDLER = `let gate = null;
export default function handler(request) {
  const res = (message, headers = {}) => ({ version: '1.1', statuscode: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, message });
  switch (request.path) {
    case '/sync':
      return res((function* () { yield 'one,'; yield 'two,'; yield new TextEncoder().encode('three'); })());
    case '/array':
      return res(['a', 'b', 'c']);
    case '/split': {
      // "é" (C3 A9) and "😀" (F0 9F 98 80) split across chunks.
      const bytes = new TextEncoder().encode('café 😀!');
      return res([bytes.subarray(0, 4), bytes.subarray(4, 6), bytes.subarray(6, 9), bytes.subarray(9)]);
    }
    case '/async':
      return res((async function* () {
        yield 'first;';
        // The second chunk waits for /open, which the client calls only after it has seen the first.
        await new Promise((resolve) => { gate = resolve; setTimeout(resolve, 900); });
        yield 'second';
      })());
    case '/open':
      gate?.();
      return res('opened');
    case '/empty':
      return res([]);
    case '/empty-chunks':
      return res(['', 'x', new Uint8Array(0), 'y']);
    case '/big':
      return res((function* () { for (let i = 0; i < 100; i++) yield 'z'.repeat(10000); })());
    case '/204':
      return { version: '1.1', statuscode: 204, headers: {}, message: ['never sent'] };
    default:
      return res('plain');
  }
}
`;

/** Decodes a chunked body; throws on bad framing; `complete` tells whether the last chunk came. */
function dechunk(buf: Buffer): { body: Buffer; chunks: number; complete: boolean } {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol === -1) return { body: Buffer.concat(parts), chunks: parts.length, complete: false };
    const size = Number.parseInt(buf.subarray(pos, eol).toString('latin1'), 16);
    if (!Number.isFinite(size)) throw new Error(`bad chunk size at ${pos}`);
    if (size === 0) return { body: Buffer.concat(parts), chunks: parts.length, complete: buf.subarray(eol, eol + 4).toString('latin1') === '\r\n\r\n' };
    if (buf.length < eol + 2 + size + 2) return { body: Buffer.concat(parts), chunks: parts.length, complete: false };
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    if (buf.subarray(eol + 2 + size, eol + 4 + size).toString('latin1') !== '\r\n') throw new Error('chunk not followed by CRLF');
    pos = eol + 4 + size;
  }
}

/** Splits one raw response into its head (lower-cased header names) and body bytes. */
function split(buf: Buffer): { status: string; headers: Record<string, string>; body: Buffer } {
  const end = buf.indexOf('\r\n\r\n');
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
  return { status: lines[0] ?? '', headers, body: buf.subarray(end + 4) };
}

t.test('streamed responses', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  const get = (path: string, version = '1.1', method = 'GET'): Promise<Buffer> => exchange(port, `${method} ${path} HTTP/${version}\r\nHost: x\r\nConnection: close\r\n\r\n`, { idleMs: 5000 });

  const sync = split(await get('/sync'));
  t.match(sync.status, /^HTTP\/1\.1 200/);
  t.equal(sync.headers['transfer-encoding'], 'chunked', 'chunked on HTTP/1.1');
  t.notOk('content-length' in sync.headers, 'no Content-Length');
  t.equal(sync.headers['content-type'], 'text/plain; charset=utf-8', "the handler's headers");
  const d = dechunk(sync.body);
  t.ok(d.complete, 'ends with the last chunk');
  t.equal(d.body.toString(), 'one,two,three', 'strings and bytes, in order');

  t.equal(dechunk(split(await get('/array')).body).body.toString(), 'abc', 'an array is an iterable too');
  t.equal(dechunk(split(await get('/split')).body).body.toString(), 'café 😀!', 'a character split over chunks arrives whole');
  const empty = dechunk(split(await get('/empty')).body);
  t.ok(empty.complete && empty.body.length === 0, 'an empty iterable: an empty chunked body');
  const ec = dechunk(split(await get('/empty-chunks')).body);
  t.ok(ec.complete, 'empty chunks are skipped (a zero-size chunk would end the body)');
  t.equal(ec.body.toString(), 'xy');
  const big = dechunk(split(await get('/big')).body);
  t.equal(big.body.length, 1_000_000, 'a 1 MB stream whole');
  t.ok(big.chunks > 1, `in several chunks (${big.chunks})`);

  const old = split(await get('/sync', '1.0'));
  t.match(old.status, /^HTTP\/1\.0 200/);
  t.notOk('transfer-encoding' in old.headers, 'HTTP/1.0: no chunked');
  t.equal(old.headers.connection, 'close', 'close-delimited');
  t.equal(old.body.toString(), 'one,two,three');
  t.equal((await exchange(port, 'GET /sync\r\n', { idleMs: 5000 })).toString(), 'one,two,three', 'HTTP/0.9: the body alone');

  const head = split(await get('/sync', '1.1', 'HEAD'));
  t.match(head.status, /^HTTP\/1\.1 200/);
  t.equal(head.body.length, 0, 'HEAD: no body');
  const none = split(await get('/204'));
  t.match(none.status, /^HTTP\/1\.1 204/);
  t.equal(none.body.length, 0, '204: no body, no framing');
  t.notOk('transfer-encoding' in none.headers);

  // Keep-alive and pipelining: three requests in one write, the stream in the middle.
  const piped = await exchange(port, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /sync HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { idleMs: 5000 });
  const text = piped.toString('latin1');
  const firstEnd = text.indexOf('\r\n\r\nplain') + 9;
  const second = piped.subarray(firstEnd);
  const s2 = split(second);
  t.equal(s2.headers['transfer-encoding'], 'chunked');
  const d2 = dechunk(s2.body);
  t.ok(d2.complete);
  t.equal(d2.body.toString(), 'one,two,three', 'the streamed answer between the two others');
  t.match(text.slice(text.lastIndexOf('HTTP/1.1')), /^HTTP\/1\.1 200[\s\S]*\r\n\r\nplain$/, 'the request pipelined after it is answered after it');
});

t.test('writing starts at the first chunk', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER, { timeoutMs: 5000 });
  const sock = net.connect(port, '127.0.0.1');
  let got = Buffer.alloc(0);
  const seen = new Promise<void>((resolve) => {
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.includes('first;')) resolve();
    });
  });
  sock.write('GET /async HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await seen;
  t.notOk(got.includes('second'), 'the first chunk arrived while the generator waits');
  t.notOk(got.includes('0\r\n\r\n'), 'and the body is still open');
  t.equal(await (await fetch(`http://127.0.0.1:${port}/open`)).text(), 'opened', 'another request is served meanwhile');
  await new Promise<void>((resolve) => sock.on('close', () => resolve()));
  const d = dechunk(split(got).body);
  t.ok(d.complete);
  t.equal(d.body.toString(), 'first;second');
});

const WORKER = `export default {
  async fetch(request) {
    const url = new URL(request.url);
    const enc = new TextEncoder();
    if (url.pathname === '/start') {
      return new Response(new ReadableStream({
        start(c) { c.enqueue(enc.encode('s1,')); c.enqueue('s2,'); c.close(); },
      }), { headers: { 'content-type': 'text/plain' } });
    }
    if (url.pathname === '/pull') {
      let i = 0;
      return new Response(new ReadableStream({
        async pull(c) { await null; if (i < 3) c.enqueue(enc.encode('p' + i++ + ',')); else c.close(); },
      }));
    }
    if (url.pathname === '/from') {
      return new Response(ReadableStream.from((async function* () { yield 'f1,'; yield 'f2'; })()));
    }
    if (url.pathname === '/body') {
      // request.body as a stream, echoed back through a stream.
      const reader = request.body.getReader();
      return new Response(new ReadableStream({
        async pull(c) { const { done, value } = await reader.read(); if (done) c.close(); else c.enqueue(value); },
      }));
    }
    if (url.pathname === '/text') {
      const r = new Response(new ReadableStream({ start(c) { c.enqueue('read '); c.enqueue(enc.encode('whole')); c.close(); } }));
      return new Response(await r.text());
    }
    if (url.pathname === '/locked') {
      const s = new ReadableStream({ start(c) { c.close(); } });
      s.getReader();
      try { new Response(s); return new Response('accepted'); } catch (e) { return new Response(e.constructor.name + ': ' + e.message, { status: 400 }); }
    }
    return new Response('?', { status: 404 });
  },
};
`;

t.test('a Workers-style handler streams a Response over a ReadableStream', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(WORKER);
  const base = `http://127.0.0.1:${port}`;
  const s = await fetch(`${base}/start`);
  t.equal(s.headers.get('transfer-encoding'), 'chunked');
  t.equal(await s.text(), 's1,s2,', 'start() enqueues bytes and strings');
  t.equal(await (await fetch(`${base}/pull`)).text(), 'p0,p1,p2,', 'pull() is called as the body is read');
  t.equal(await (await fetch(`${base}/from`)).text(), 'f1,f2', 'ReadableStream.from(async generator)');
  t.equal(await (await fetch(`${base}/body`, { method: 'POST', body: 'echo me' })).text(), 'echo me', 'request.body is a ReadableStream');
  t.equal(await (await fetch(`${base}/text`)).text(), 'read whole', 'a stream body read with text()');
  const locked = await fetch(`${base}/locked`);
  t.equal(locked.status, 400);
  t.match(await locked.text(), /^TypeError: .*locked/, 'a locked stream cannot be a body');
});
