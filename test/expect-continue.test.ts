// Expect: 100-continue: the interim 100 is sent before the body is read, never for a refused request; other expectations get 417.

import net from 'node:net';
import t from 'tap';
import { startService } from './helpers/service.js';
import { exchange, parseResponses } from './helpers/raw-http.js';

const HANDLER = "export default (r) => ({ version: '1.1', statuscode: 200, headers: {}, message: 'got ' + r.datastream.text() })";

t.test('100 Continue before the body', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  const s = net.connect(port, '127.0.0.1');
  let got = '';
  s.on('data', (d) => {
    got += d.toString('latin1');
  });
  await new Promise((r) => s.once('connect', r));
  s.write('PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n');
  // The client waits for the 100 before it sends the body.
  while (!got.includes('\r\n\r\n')) await new Promise((r) => s.once('data', r));
  t.equal(got, 'HTTP/1.1 100 Continue\r\n\r\n', 'only the interim response so far');
  s.write('hello');
  await new Promise((r) => s.once('close', r));
  const replies = parseResponses(Buffer.from(got, 'latin1'));
  t.same(
    replies.map((r) => r.status),
    [100, 200],
  );
  t.equal(replies[1]?.body.toString(), 'got hello');
});

t.test('no 100 for a request refused first; 417 for other expectations; ignored on 1.0', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER, { maxBodyBytes: 10 });
  const refused = parseResponses(await exchange(port, 'PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n'));
  t.same(
    refused.map((r) => r.status),
    [413],
    'no 100 before the 413',
  );
  const other = parseResponses(await exchange(port, 'PUT / HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\nContent-Length: 1\r\n\r\nx'));
  t.same(
    other.map((r) => r.status),
    [417],
  );
  const old = parseResponses(await exchange(port, 'PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx'));
  t.same(
    old.map((r) => r.status),
    [200],
    'HTTP/1.0: no 100',
  );
  const noBody = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n'));
  t.same(
    noBody.map((r) => r.status),
    [200],
    'no body expected: no 100',
  );
});

t.test('the 100 waits for the answers owed before it', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  const replies = parseResponses(await exchange(port, 'GET /a HTTP/1.1\r\nHost: h\r\n\r\nPUT /b HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi'));
  t.same(
    replies.map((r) => r.status),
    [200, 200],
    'the body arrived with the head, so no 100 is owed any more',
  );
  t.same(
    replies.map((r) => r.body.toString()),
    ['got ', 'got hi'],
  );
});
