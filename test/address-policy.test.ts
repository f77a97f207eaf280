// 403 for addresses the policy refuses: hosts off the allow-list, ports outside 1024-65535, the API's own address.

import t from 'tap';
import { example, freePort, startService } from './helpers/service.js';

t.test('disallowed addresses', async (t) => {
  const svc = await startService(t);
  const source = example('hello.js');
  const port = await freePort();
  const cases: Array<[string, string, number, RegExp]> = [
    ['any-address host', '0.0.0.0', port, /host "0\.0\.0\.0" is not allowed/],
    ['another host', '10.1.2.3', port, /host "10\.1\.2\.3" is not allowed/],
    ['a name', 'example.com', port, /not allowed/],
    ['privileged port', '127.0.0.1', 80, /port 80 is not allowed \(allowed ports: 1024-65535\)/],
    ['the API port', '127.0.0.1', svc.apiPort, /control API's own address/],
    ['the API port via localhost', 'localhost', svc.apiPort, /control API's own address/],
  ];
  for (const [name, host, p, message] of cases) {
    const r = await svc.api('POST', '/servers', { host, port: p, source });
    t.equal(r.status, 403, name);
    t.equal(r.body.error.code, 'ISO_ERR_API_ADDRESS_NOT_ALLOWED', name);
    t.match(r.body.error.message, message, name);
  }
  t.same((await svc.api('GET', '/servers')).body, { servers: [] });
});

t.test('allowed hosts: 127.0.0.1, ::1 and localhost', async (t) => {
  const svc = await startService(t);
  for (const host of ['127.0.0.1', 'localhost', '::1']) {
    const port = await freePort(host === '::1' ? '::1' : '127.0.0.1');
    const r = await svc.api('POST', '/servers', { host, port, source: example('hello.js') });
    t.equal(r.status, 201, host);
    const res = await fetch(`http://${host === '::1' ? '[::1]' : host}:${port}/`);
    t.equal(res.status, 200, `${host} serves`);
    await res.text();
  }
});
