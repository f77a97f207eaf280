// A streamed response's limits: maxResponseBytes counts every chunk, a chunk that is not a string or bytes and an exception after the head cut the body off (no last chunk: the client sees it truncated) and are logged; the iterator's time counts against timeoutMs; responseTimeoutMs bounds the whole body.

import t from 'tap';
import { logsMatching } from './helpers/logs.js';
import { exchange } from './helpers/raw-http.js';
import { startService } from './helpers/service.js';

const HANDLER = `const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default function handler(request) {
  const res = (message) => ({ version: '1.1', statuscode: 200, headers: {}, message });
  switch (request.path) {
    case '/too-big':
      return res((function* () { for (let i = 0; i < 100; i++) yield 'x'.repeat(1000); })());
    case '/bad-chunk':
      return res((function* () { yield 'fine,'; yield 42; })());
    case '/throws':
      return res((async function* () { yield 'before,'; await null; throw new Error('stream boom'); })());
    case '/slow':
      // 100 ms of the handler's time per chunk: over a 500 ms timeoutMs after about five.
      return res((async function* () { for (;;) { await sleep(100); yield 'tick,'; } })());
    case '/spin':
      return res((function* () { yield 'spin,'; for (;;) {} })());
    case '/ok':
      return res('fine');
    default:
      return res(['a', 'b']);
  }
}
`;

const chunked = (buf: Buffer): { head: string; body: string; complete: boolean } => {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const rest = text.slice(end + 4);
  return { head: text.slice(0, end), body: rest, complete: rest.endsWith('0\r\n\r\n') };
};

t.test('limits of a streamed response', async (t) => {
  const svc = await startService(t);
  const { port, httpdid } = await svc.deploy(HANDLER, { maxResponseBytes: 4096, timeoutMs: 500, responseTimeoutMs: 100000 });
  const get = async (path: string) => chunked(await exchange(port, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, { idleMs: 5000 }));

  const big = await get('/too-big');
  t.match(big.head, /^HTTP\/1\.1 200[\s\S]*Transfer-Encoding: chunked/);
  t.notOk(big.complete, 'over maxResponseBytes: no last chunk');
  t.ok(big.body.length < 8000, `cut off near the limit (${big.body.length} bytes of chunked body)`);
  t.match(
    await logsMatching(svc, httpdid, /larger than maxResponseBytes/),
    /invalidResponse.*streamed response cut off after \d+ body bytes: invalid response: streamed response is larger than maxResponseBytes \(4096 bytes\)/,
    'logged as an invalid response',
  );

  const bad = await get('/bad-chunk');
  t.notOk(bad.complete, 'a number as a chunk: cut off');
  t.match(bad.body, /fine,/, 'after what came before it');
  t.match(await logsMatching(svc, httpdid, /a streamed chunk must be/), /a streamed chunk must be a string or a Uint8Array, got number/);

  const thrown = await get('/throws');
  t.notOk(thrown.complete, 'an exception after the head: cut off');
  t.match(thrown.body, /before,/);
  t.match(await logsMatching(svc, httpdid, /stream boom/), /"outcome":"exception".*handler raised: stream boom/, 'logged as an exception');

  const slow = await get('/slow');
  t.notOk(slow.complete, "the iterator's time counts against timeoutMs");
  t.ok((slow.body.match(/tick,/g) ?? []).length >= 1, 'after the chunks it made in time');
  t.match(await logsMatching(svc, httpdid, /"outcome":"timeout"/), /handler exceeded its time limit \(500 ms\)/, 'logged as a timeout');

  const spin = await get('/spin');
  t.notOk(spin.complete, 'a synchronous loop inside next(): cut off at timeoutMs');
  t.equal(await (await fetch(`http://127.0.0.1:${port}/ok`)).text(), 'fine', 'the server answers after it (a fresh isolate)');
});

t.test('responseTimeoutMs bounds the whole body', async (t) => {
  const svc = await startService(t);
  const src = `export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: (async function* () { for (;;) { await new Promise((r) => setTimeout(r, 20)); yield '.'; } })() });`;
  const { port, httpdid } = await svc.deploy(src, { timeoutMs: 30000, responseTimeoutMs: 400 });
  const r = chunked(await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 10000 }));
  t.notOk(r.complete, 'cut off');
  t.match(r.body, /\./, 'after some chunks');
  t.match(await logsMatching(svc, httpdid, /responseTimeoutMs/), /the streamed response exceeded its time limit \(responseTimeoutMs 400 ms\)/, 'logged');
});
