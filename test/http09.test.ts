// HTTP/0.9: a simple request `GET <target>` is served with version "0.9", no headers, and answered with the body alone, then close.

import t from 'tap';
import { example, startService } from './helpers/service.js';
import { exchange } from './helpers/raw-http.js';

t.test('HTTP/0.9 simple requests', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(example('echo.js'));
  const reply = await exchange(port, 'GET /old?x=1\r\n');
  const dict = JSON.parse(reply.toString());
  t.equal(dict.version, '0.9');
  t.equal(dict.verb, 'GET');
  t.equal(dict.path, '/old');
  t.same(dict.querydict, { x: '1' });
  t.same(dict.headers, {});
  t.notMatch(reply.toString(), /^HTTP\//, 'no status line, no headers');

  t.match((await exchange(port, 'POST /old\r\n')).toString(), /^HTTP\/1\.1 400 Bad Request\r\n/, 'GET only');
  const later = (await exchange(port, 'GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b\r\n')).toString('latin1');
  t.match(later, /^HTTP\/1\.1 200 OK\r\n[\s\S]*HTTP\/1\.1 400 Bad Request\r\n/, 'not after an HTTP/1.1 request on the same connection');
});
