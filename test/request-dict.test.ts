// The request dict a handler receives for a GET with a query and headers, field by field.

import t from 'tap';
import { example, startService } from './helpers/service.js';
import { exchange, parseResponses } from './helpers/raw-http.js';

t.test('the full request dict', async (t) => {
  const svc = await startService(t);
  const { httpdid, port } = await svc.deploy(example('echo.js'));
  const raw = await exchange(port, [
    'GET /a%20b/c?foo=bar&baz&sp=a+b%21&foo=last&enc=%E2%82%AC&bad=%ff&=x&&__proto__=p HTTP/1.1\r\n',
    'Host: example.test\r\n',
    'X-Custom:   padded value  \r\n',
    'x-custom: second\r\n',
    'Accept: */*\r\n',
    'Connection: close\r\n',
    '\r\n',
  ]);
  const [res] = parseResponses(raw);
  t.equal(res?.status, 200);
  const dict = JSON.parse(res?.body.toString() ?? '{}');
  t.equal(dict.verb, 'GET');
  t.equal(dict.path, '/a%20b/c', 'path is not decoded');
  t.equal(dict.querystr, 'foo=bar&baz&sp=a+b%21&foo=last&enc=%E2%82%AC&bad=%ff&=x&&__proto__=p', 'querystr is not decoded');
  t.same(
    dict.querydict,
    JSON.parse('{"foo":"last","baz":null,"sp":"a b!","enc":"€","bad":"\ufffd","__proto__":"p"}'),
    'querydict decoded; last value wins; bare names are null; invalid UTF-8 is U+FFFD',
  );
  t.equal(Object.keys(dict.querydict).includes('__proto__'), true, '__proto__ is an ordinary key');
  t.equal(dict.version, '1.1');
  t.same(dict.headers, { Host: 'example.test', 'X-Custom': 'padded value, second', Accept: '*/*', Connection: 'close' }, 'first spelling wins, values trimmed, repeats joined in order');
  t.equal(dict.httpdid, httpdid);
  t.equal(dict.remoteipstr, '127.0.0.1');
  t.ok(Number.isInteger(dict.remoteportnum) && dict.remoteportnum > 0, 'remoteportnum');
  t.equal(dict.body, '');
  t.same(Object.keys(dict).sort(), ['body', 'headers', 'httpdid', 'path', 'querydict', 'querystr', 'remoteipstr', 'remoteportnum', 'verb', 'version'].sort());
});

t.test('no query: querystr null, querydict empty; HTTP/1.0', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(example('echo.js'));
  const [res] = parseResponses(await exchange(port, 'GET /plain HTTP/1.0\r\n\r\n'));
  const dict = JSON.parse(res?.body.toString() ?? '{}');
  t.equal(dict.querystr, null);
  t.same(dict.querydict, {});
  t.equal(dict.version, '1.0');
  t.same(dict.headers, {});
  const [res2] = parseResponses(await exchange(port, 'GET /empty? HTTP/1.0\r\n\r\n'));
  const dict2 = JSON.parse(res2?.body.toString() ?? '{}');
  t.equal(dict2.querystr, '', 'a bare ? gives an empty querystr');
  t.same(dict2.querydict, {});
});

t.test('IPv6 client address', async (t) => {
  const svc = await startService(t);
  const port = await (await import('./helpers/service.js')).freePort('::1');
  const r = await svc.api('POST', '/servers', { host: '::1', port, source: example('echo.js') });
  t.equal(r.status, 201);
  const [res] = parseResponses(await exchange(port, 'GET / HTTP/1.0\r\n\r\n', { host: '::1' }));
  t.equal(JSON.parse(res?.body.toString() ?? '{}').remoteipstr, '::1');
});
