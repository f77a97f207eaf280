// 400 for malformed API input, with a stable code and a message naming the field; nothing is created.

import t from 'tap';
import { example, freePort, startService } from './helpers/service.js';

t.test('malformed bodies and parameters', async (t) => {
  const svc = await startService(t);
  const port = await freePort();
  const ok = { host: '127.0.0.1', port, source: example('hello.js') };
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing source', { host: '127.0.0.1', port }, /body\.source is required/],
    ['missing port', { host: '127.0.0.1', source: 'x' }, /body\.port is required/],
    ['missing host', { port, source: 'x' }, /body\.host is required/],
    ['port as a string', { ...ok, port: String(port) }, /body\.port must be an integer/],
    ['port as a float', { ...ok, port: 8080.5 }, /body\.port must be an integer/],
    ['port out of range', { ...ok, port: 70000 }, /body\.port must be <= 65535/],
    ['host as a number', { ...ok, host: 127 }, /body\.host must be a string/],
    ['source as an array', { ...ok, source: ['x'] }, /body\.source must be a string/],
    ['unknown field', { ...ok, extra: true }, /body\.extra is not an allowed field/],
    ['unknown limit', { ...ok, limits: { cpu: 1 } }, /body\.limits\.cpu is not an allowed field/],
    ['limit as a string', { ...ok, limits: { timeoutMs: '10' } }, /body\.limits\.timeoutMs must be an integer/],
    ['limit above its ceiling', { ...ok, limits: { memoryMb: 100000 } }, /body\.limits\.memoryMb must be <= 512/],
    ['limit below its floor', { ...ok, limits: { timeoutMs: 0 } }, /body\.limits\.timeoutMs must be >= 1/],
    ['body is an array', [ok], /body must be an object/],
  ];
  for (const [name, body, message] of cases) {
    const r = await svc.api('POST', '/servers', body);
    t.equal(r.status, 400, name);
    t.equal(r.body.error.code, 'ISO_ERR_API_BAD_REQUEST', name);
    t.match(r.body.error.message, message, name);
  }

  const bad = await svc.api('POST', '/servers', '{"host": "127.0.0.1", "port": ');
  t.equal(bad.status, 400);
  t.equal(bad.body.error.code, 'ISO_ERR_API_MALFORMED_JSON');

  const wrongType = await fetch(`${svc.url}/servers`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
  t.equal(wrongType.status, 415);
  t.equal(((await wrongType.json()) as { error: { code: string } }).error.code, 'ISO_ERR_API_UNSUPPORTED_MEDIA_TYPE');

  const badId = await svc.api('GET', '/servers/Abc');
  t.equal(badId.status, 400, 'neither an httpdid nor a name');
  t.match(badId.body.error.message, /params\.httpdid must be the server's httpdid \(a positive integer\) or its name/);
  t.equal((await svc.api('DELETE', '/servers/0')).status, 400);
  const unknown = await svc.api('GET', '/servers/12345');
  t.equal(unknown.status, 404);
  t.equal(unknown.body.error.code, 'ISO_ERR_API_NOT_FOUND');
  t.equal((await svc.api('GET', '/nowhere')).body.error.code, 'ISO_ERR_API_ROUTE_NOT_FOUND');

  t.same((await svc.api('GET', '/servers')).body, { servers: [] }, 'nothing was created');
  t.equal((await svc.api('POST', '/servers', ok)).status, 201, 'the port is still free');
});
