// 409 when the requested port is taken, by another process or by another of our servers.

import net from 'node:net';
import t from 'tap';
import { example, freePort, startService } from './helpers/service.js';

t.test('a port held by another process is 409', async (t) => {
  const svc = await startService(t);
  const other = net.createServer();
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  t.teardown(() => other.close());
  const port = (other.address() as net.AddressInfo).port;
  const r = await svc.api('POST', '/servers', { host: '127.0.0.1', port, source: example('hello.js') });
  t.equal(r.status, 409);
  t.equal(r.body.error.code, 'ISO_ERR_API_ADDRESS_IN_USE');
  t.match(r.body.error.message, String(port));
});

t.test('a port held by another server of ours is 409, and the first keeps serving', async (t) => {
  const svc = await startService(t);
  const port = await freePort();
  const first = await svc.api('POST', '/servers', { host: '127.0.0.1', port, source: example('hello.js') });
  t.equal(first.status, 201);
  const second = await svc.api('POST', '/servers', { host: '127.0.0.1', port, source: 'export default () => ({})' });
  t.equal(second.status, 409);
  t.equal(second.body.error.code, 'ISO_ERR_API_ADDRESS_IN_USE');
  // Same host spelled differently resolves to the same address.
  const third = await svc.api('POST', '/servers', { host: 'localhost', port, source: example('hello.js') });
  t.equal(third.status, 409);
  const res = await fetch(`http://127.0.0.1:${port}/`);
  t.equal(res.status, 200);
  t.match(await res.text(), /Hello from isohttpd/);
  t.equal((await svc.api('GET', '/servers')).body.servers.length, 1);
});

t.test('concurrent creates on one port: exactly one wins', async (t) => {
  const svc = await startService(t);
  const port = await freePort();
  const answers = await Promise.all([1, 2, 3, 4].map(() => svc.api('POST', '/servers', { host: '127.0.0.1', port, source: example('hello.js') })));
  t.same(answers.map((a) => a.status).sort(), [201, 409, 409, 409]);
});
