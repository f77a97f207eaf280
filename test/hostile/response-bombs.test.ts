// Hostile: getters, proxies and prototype keys in the response only spend the tenant's own time limit and change nothing in the host (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { exchange, parseResponses } from '../helpers/raw-http.js';
import { contain, get, hostile } from './helpers.js';

t.test('getter and proxy bombs', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const port = (
    await svc.deploy(
      hostile(`(r) => {
    if (r.path === '/getter') return { version: '1.1', statuscode: 200, headers: { get 'X-A'() { for (;;) {} } }, message: '' };
    if (r.path === '/proxy') return new Proxy({}, { get() { for (;;) {} }, ownKeys() { for (;;) {} } });
    if (r.path === '/tojson') return { version: '1.1', statuscode: 200, headers: {}, message: '', toJSON() { for (;;) {} } };
    if (r.path === '/huge-keys') { const h = {}; for (let i = 0; i < 1e6; i++) h['k' + i] = 'v'; return { version: '1.1', statuscode: 200, headers: h, message: '' }; }
    if (r.path === '/u8proxy') return { version: '1.1', statuscode: 200, headers: {}, message: new Proxy(new Uint8Array(4), {}) };
    if (r.path === '/resizable') { const b = new ArrayBuffer(8, { maxByteLength: 16 }); const m = new Uint8Array(b); b.resize(2); return { version: '1.1', statuscode: 200, headers: {}, message: m }; }
  }`),
      { timeoutMs: 300, maxResponseBytes: 1048576 },
      undefined,
      { exposeErrors: true },
    )
  ).port;
  for (const path of ['/getter', '/proxy', '/tojson']) {
    const r = await get(port, path);
    t.equal(r.status, 504, `${path}: timeout, not a hang`);
    t.equal((await get(port, '/ok')).status, 200, `${path}: served after`);
  }
  const huge = await get(port, '/huge-keys');
  t.ok([500, 503, 504].includes(huge.status), `a million headers: refused (${huge.status})`);
  const u8 = await get(port, '/u8proxy');
  t.equal(u8.status, 500, 'a proxied Uint8Array is refused inside the isolate');
  // Not a Uint8Array by its brand: serialized as an ordinary value, which the schema refuses.
  t.match(u8.text, /^invalid response: (response could not be serialized|response\.message must be a string)/);
  const resizable = await get(port, '/resizable');
  t.equal(resizable.status, 200, 'a shrunk resizable buffer is copied inside the isolate, no V8 CHECK');
  t.equal(resizable.text.length, 2);
  t.equal((await get(port, '/ok')).status, 200);
  t.notMatch(svc.output(), /sandbox worker exited/, 'the worker never died');
  await c.check(t);
});

t.test('__proto__ and constructor keys', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const port = (
    await svc.deploy(
      hostile(`() => ({ version: '1.1', statuscode: 200, headers: JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": "c", "X-Ok": "1"}'), message: 'p' })`),
      undefined,
      undefined,
      { exposeErrors: true },
    )
  ).port;
  const [r] = parseResponses(await exchange(port, 'GET /p HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'));
  // A __proto__ key whose value is an object is refused by the schema (header values are strings or numbers).
  t.equal(r?.status, 500);
  t.match(r?.body.toString() ?? '', /response\.headers\.__proto__ must be a string or number/);
  const port2 = (await svc.deploy(hostile(`() => ({ version: '1.1', statuscode: 200, headers: JSON.parse('{"__proto__": "x", "constructor": "c"}'), message: 'p' })`))).port;
  const [r2] = parseResponses(await exchange(port2, 'GET /p HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'));
  t.equal(r2?.status, 200);
  t.equal(r2?.headers['__proto__'], 'x', 'sent as an ordinary header');
  t.equal(r2?.headers['constructor'], 'c');
  // Nothing in the host was polluted: the next responses are framed as always.
  const [r3] = parseResponses(await exchange(port, 'GET /ok HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'));
  t.equal(r3?.status, 200);
  t.equal(r3?.headers['polluted'], undefined);
  await c.check(t);
});
