// Pipelined requests are answered in order, whatever their bodies and however the bytes are split.

import t from 'tap';
import { startService } from './helpers/service.js';
import { exchange, parseResponses } from './helpers/raw-http.js';

const HANDLER = `export default async (r) => {
  // Later requests finish sooner: order must still be kept.
  const n = Number(r.path.slice(1));
  for (let i = 0; i < (20 - n) * 1000; i++);
  return { version: '1.1', statuscode: 200, headers: {}, message: r.path + ':' + r.datastream.text() };
};`;

t.test('in order, in one write and byte by byte', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  const requests = Array.from({ length: 20 }, (_, i) =>
    i % 3 === 0
      ? `POST /${i} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nc${i % 10}\r\n0\r\n\r\n`
      : i % 3 === 1
        ? `POST /${i} HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nl${i % 10}`
        : `GET /${i} HTTP/1.1\r\nHost: h\r\n\r\n`,
  );
  const all = `${requests.join('')}GET /99 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`;
  const expected = [...requests.map((_, i) => `/${i}:${i % 3 === 0 ? `c${i % 10}` : i % 3 === 1 ? `l${i % 10}` : ''}`), '/99:'];
  const whole = parseResponses(await exchange(port, all));
  t.same(
    whole.map((r) => r.body.toString()),
    expected,
    'one write',
  );
  const bytes = parseResponses(
    await exchange(
      port,
      [...Buffer.from(all)].map((b) => Buffer.from([b])),
    ),
  );
  t.same(
    bytes.map((r) => r.body.toString()),
    expected,
    'byte by byte',
  );
});

t.test('a bad request after good ones: the good ones are answered first, then 400 and close', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  const replies = parseResponses(await exchange(port, 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\n\r\nGET /4 HTTP/1.1\r\nHost: h\r\n\r\n'));
  t.same(
    replies.map((r) => r.status),
    [200, 200, 400],
  );
  t.same(
    replies.slice(0, 2).map((r) => r.body.toString()),
    ['/1:', '/2:'],
  );
});

t.test('Connection: close in the middle: nothing after it is answered', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  const replies = parseResponses(await exchange(port, 'GET /1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n'));
  t.same(
    replies.map((r) => r.body.toString()),
    ['/1:'],
  );
  t.equal(replies[0]?.headers['connection'], 'close');
});
