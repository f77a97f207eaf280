// `isohttpd tail NAME [--status] [--outcome] [--search] [--sample] [--json]`: says when it is connected, prints one block per request (status, outcome, method, path, duration, bytes, id, detail, stack frames, console lines), exits 0 when the server is deleted; bad filters are usage errors or the API's 400.

import t from 'tap';
import { runCli, spawnCli, watchCli as watch } from './helpers/cli.js';
import { startService } from './helpers/service.js';

const HANDLER = `export default function handler(request) {
  console.log('hit ' + request.path);
  if (request.path === '/boom') throw new Error('kaput');
  return { version: '1.1', statuscode: 200, headers: {}, message: 'ok' };
}
`;

const svc = await startService(t);

t.test('tail prints each request and exits 0 when the server is deleted', async (t) => {
  const { httpdid, port } = await svc.deploy(HANDLER, undefined, undefined, { name: 'tailed' });
  const all = watch(spawnCli(['tail', 'tailed'], { ISOHTTPD_URL: svc.url }));
  const errors = watch(spawnCli(['tail', 'tailed', '--status', '5xx', '--json'], { ISOHTTPD_URL: svc.url }));
  await Promise.all([all.until(/tailing server tailed; Ctrl-C to stop/, 'the connected note', 'err'), errors.until(/tailing server tailed/, 'the connected note', 'err')]);

  await (await fetch(`http://127.0.0.1:${port}/fine`, { headers: { 'x-request-id': 'abc-1' } })).text();
  await (await fetch(`http://127.0.0.1:${port}/boom`, { headers: { 'x-request-id': 'abc-2' } })).text();
  await all.until(/GET \/boom[\s\S]*kaput[\s\S]*hit \/boom\n/, 'the failed request');
  t.match(all.out(), /^\d{4}-\d\d-\d\dT\S+Z {2}200 ok {2}GET \/fine {2}[\d.]+ ms {2}in 0 B, out \d+ B {2}\(id abc-1\)\n {4}log {4}hit \/fine\n/, 'the ok request and its console line');
  t.match(
    all.out(),
    /Z {2}500 exception {2}GET \/boom {2}[\d.]+ ms {2}in 0 B, out \d+ B {2}\(id abc-2\)\n {4}handler raised: kaput\n {6}at handler \(handler\.js:3:39\)\n {4}log {4}hit \/boom\n/,
    'the exception: detail, its frames in the tenant module, console line',
  );

  await errors.until(/"path":"\/boom"/, 'the failure as JSON');
  const lines = errors
    .out()
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { path?: string; status?: number });
  t.same(
    lines.map((l) => l.path),
    ['/boom'],
    '--status 5xx shows only the failure',
  );

  t.equal((await svc.api('DELETE', `/servers/${httpdid}`)).status, 204);
  t.equal(await all.exit, 0, 'exit 0 when the server is deleted');
  t.match(all.err(), /server tailed was deleted; its tail ends here/);
  t.equal(await errors.exit, 0);
  t.match(errors.out().trimEnd().split('\n').pop(), /"end":"deleted"/, '--json passes the last line through');
});

t.test('bad filters', async (t) => {
  await svc.deploy(HANDLER, undefined, undefined, { name: 'filters' });
  const sample = await runCli(['tail', 'filters', '--sample', '1.5'], { ISOHTTPD_URL: svc.url });
  t.equal(sample.code, 2, 'a --sample over 1 is a usage error');
  t.match(sample.stderr, /--sample must be a fraction over 0 and at most 1/);
  const status = await runCli(['tail', 'filters', '--status', 'teapot'], { ISOHTTPD_URL: svc.url });
  t.equal(status.code, 1, "a bad --status is the API's 400");
  t.match(status.stderr, /400 ISO_ERR_API_BAD_REQUEST: querystring\.status must be statuses/);
  const missing = await runCli(['tail', 'nosuch'], { ISOHTTPD_URL: svc.url });
  t.equal(missing.code, 3, 'no such server: exit 3');
  const help = await runCli(['tail', '--help'], {});
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: isohttpd tail ID\|NAME[\s\S]*example: isohttpd tail hello --status 5xx/);
});
