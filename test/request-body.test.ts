// A POST body read through datastream.read(size?) and datastream.text().

import t from 'tap';
import { example, startService } from './helpers/service.js';
import { exchange, parseResponses } from './helpers/raw-http.js';

const READER = `
export default function handler(request) {
  const ds = request.datastream;
  const first = ds.read(3);
  const second = ds.read(2);
  const rest = ds.text();
  const end = ds.read();
  const endText = ds.text();
  let bad = null;
  try { ds.read(-1); } catch (e) { bad = e.message; }
  return {
    version: '1.1', statuscode: 200, headers: {},
    message: JSON.stringify({
      first: Array.from(first), firstIsU8: first instanceof Uint8Array, second: Array.from(second), rest,
      endLength: end.length, endIsU8: end instanceof Uint8Array, endText, bad,
    }),
  };
}`;

t.test('read(size), text(), then empty at the end', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(READER);
  const body = 'abcdeé€ rest';
  const len = Buffer.byteLength(body);
  const [res] = parseResponses(await exchange(port, Buffer.concat([Buffer.from(`POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: ${len}\r\nConnection: close\r\n\r\n`), Buffer.from(body)])));
  t.equal(res?.status, 200);
  t.same(JSON.parse(res?.body.toString() ?? '{}'), {
    first: [97, 98, 99],
    firstIsU8: true,
    second: [100, 101],
    rest: 'é€ rest',
    endLength: 0,
    endIsU8: true,
    endText: '',
    bad: 'datastream.read(size): size must be a non-negative integer',
  });
});

t.test('read() with no size returns everything; a body split over many packets', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(`export default (r) => {
    const all = r.datastream.read();
    let sum = 0; for (const b of all) sum = (sum + b) % 65536;
    return { version: '1.1', statuscode: 200, headers: {}, message: all.length + ':' + sum };
  }`);
  const body = Buffer.alloc(200_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
  let sum = 0;
  for (const b of body) sum = (sum + b) % 65536;
  const parts: Buffer[] = [Buffer.from(`PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`)];
  for (let i = 0; i < body.length; i += 1000) parts.push(body.subarray(i, i + 1000));
  const [res] = parseResponses(await exchange(port, parts));
  t.equal(res?.body.toString(), `${body.length}:${sum}`);
});

t.test('text() decodes UTF-8 and replaces invalid sequences', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(example('echo.js'));
  const body = Buffer.concat([Buffer.from('ok 😀 '), Buffer.from([0xff, 0xc3]), Buffer.from(' end')]);
  const [res] = parseResponses(await exchange(port, Buffer.concat([Buffer.from(`POST / HTTP/1.0\r\nContent-Length: ${body.length}\r\n\r\n`), body])));
  t.equal(JSON.parse(res?.body.toString() ?? '{}').body, 'ok 😀 \ufffd\ufffd end');
});

t.test('the body crosses as an exactly-sized buffer: nothing else is reachable through it', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(`export default (r) => {
    const b = r.datastream.read();
    return { version: '1.1', statuscode: 200, headers: {}, message: b.byteOffset + ':' + b.byteLength + ':' + b.buffer.byteLength };
  }`);
  const [res] = parseResponses(await exchange(port, 'POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello'));
  t.equal(res?.body.toString(), '0:5:5');
});

t.test('a body over maxBodyBytes is refused with 413 before it is read', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(example('echo.js'), { maxBodyBytes: 10 });
  const [res] = parseResponses(await exchange(port, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n'));
  t.equal(res?.status, 413);
  t.equal(res?.headers['connection'], 'close');
});
