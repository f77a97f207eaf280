// Request bodies larger than the server's bodyWindowBytes stream: the handler starts once the window is in, before the body is complete, pulls bytes as it reads, and what it leaves unread is drained.

import net from 'node:net';
import t from 'tap';
import { startService } from './helpers/service.js';
import { exchange, parseResponses } from './helpers/raw-http.js';

t.test('the handler runs once its body window is in, before the body has arrived', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(
    `export default (r) => {
    const first = new TextDecoder().decode(r.datastream.read(5));
    return { version: '1.1', statuscode: 200, headers: {}, message: r.path + ':' + first };
  }`,
    { timeoutMs: 5000, bodyWindowBytes: 5 },
  );
  const s = net.connect(port, '127.0.0.1');
  let got = '';
  s.on('data', (d) => {
    got += d.toString();
  });
  await new Promise((r) => s.once('connect', r));
  s.write('POST /early HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
  // The answer comes while most of the body is still to be sent: the handler did not wait for it.
  while (!got.includes('/early:hello')) await new Promise((r) => s.once('data', r));
  t.pass('answered before the end of the body');
  // The rest of the body is drained, and the connection goes on.
  s.write(`400\r\n${'x'.repeat(1024)}\r\n0\r\n\r\nPOST /next HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nworld`);
  await new Promise((r) => s.once('close', r));
  t.same(
    parseResponses(Buffer.from(got)).map((r) => r.body.toString()),
    ['/early:hello', '/next:world'],
  );
});

t.test('unread body is drained; the next request on the connection is served', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(`export default (r) => ({ version: '1.1', statuscode: 200, headers: {}, message: r.path + ':' + new TextDecoder().decode(r.datastream.read(2)) })`);
  const big = 'x'.repeat(300_000);
  const replies = parseResponses(
    await exchange(port, [
      `POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: ${big.length}\r\n\r\n`,
      big,
      `POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
      'GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
    ]),
  );
  t.same(
    replies.map((r) => r.body.toString()),
    ['/a:xx', '/b:ab', '/c:'],
  );
});

t.test("a body over the limit while the handler reads it: 413, not the handler's answer", async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(
    `export default (r) => { let n = 0; try { n = r.datastream.read().length; } catch (e) { return { version: '1.1', statuscode: 200, headers: {}, message: 'caught ' + e.message }; } return { version: '1.1', statuscode: 200, headers: {}, message: String(n) }; }`,
    { maxBodyBytes: 1000 },
  );
  const replies = parseResponses(await exchange(port, `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n${'a'.repeat(512)}\r\n200\r\n${'a'.repeat(512)}\r\n0\r\n\r\n`));
  t.equal(replies.length, 1);
  t.equal(replies[0]?.status, 413);
  t.equal(replies[0]?.headers['connection'], 'close');
});

t.test('100 Continue on the first read; none when the handler answers without reading', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(`export default (r) => r.path === '/read'
    ? { version: '1.1', statuscode: 200, headers: {}, message: 'read ' + r.datastream.text() }
    : { version: '1.1', statuscode: 403, headers: {}, message: 'no thanks' }`);
  const unread = parseResponses(await exchange(port, 'PUT /deny HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n'));
  t.same(
    unread.map((r) => r.status),
    [403],
    'answered without a 100',
  );
  t.equal(unread[0]?.headers['connection'], 'close', 'and closed, since the body may never come');
  const s = net.connect(port, '127.0.0.1');
  let got = '';
  s.on('data', (d) => {
    got += d.toString();
  });
  await new Promise((r) => s.once('connect', r));
  s.write('PUT /read HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n');
  while (!got.includes('\r\n\r\n')) await new Promise((r) => s.once('data', r));
  t.equal(got, 'HTTP/1.1 100 Continue\r\n\r\n');
  s.write('ok');
  await new Promise((r) => s.once('close', r));
  t.equal(parseResponses(Buffer.from(got))[1]?.body.toString(), 'read ok');
});
