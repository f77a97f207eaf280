// `isohttpd logs ID --follow` streams new console lines as they come and exits 0 when the server is deleted, 6 when the service stops or the connection breaks (each saying so); with --json, the API's NDJSON.

import t from 'tap';
import { spawnCli, watchCli as watch } from './helpers/cli.js';
import { startService } from './helpers/service.js';

const HANDLER = `export default function handler(request) {
  console.log('hit ' + request.path);
  return { version: '1.1', statuscode: 200, headers: {}, message: 'ok' };
}
`;

const svc = await startService(t);

t.test('logs --follow prints new lines and exits 0 on rm', async (t) => {
  const { httpdid, port } = await svc.deploy(HANDLER);
  await (await fetch(`http://127.0.0.1:${port}/first`)).text();
  const human = watch(spawnCli(['logs', String(httpdid), '--follow'], { ISOHTTPD_URL: svc.url }));
  const json = watch(spawnCli(['logs', String(httpdid), '-f', '--json'], { ISOHTTPD_URL: svc.url }));
  await Promise.all([human.until(/hit \/first\n/, 'the backlog'), json.until(/hit \/first","requestId":"[^"]+"\}\n/, 'the backlog as JSON')]);

  await (await fetch(`http://127.0.0.1:${port}/second`)).text();
  await Promise.all([human.until(/hit \/second\n/, 'a line written after it connected'), json.until(/hit \/second","requestId":"[^"]+"\}\n/, 'the new line as JSON')]);
  t.match(human.out(), /^\d{4}-\d\d-\d\dT\S+Z\s+log\s+hit \/first\n\d{4}-\S+Z\s+log\s+hit \/second\n$/, 'one line per console line: time, level, message');
  const parsed = json
    .out()
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { level: string; message: string });
  t.same(
    parsed.map((l) => [l.level, l.message]),
    [
      ['log', 'hit /first'],
      ['log', 'hit /second'],
    ],
    'NDJSON, one object per line',
  );

  t.equal((await svc.api('DELETE', `/servers/${httpdid}`)).status, 204);
  t.equal(await human.exit, 0, 'exits 0 when the server is deleted');
  t.equal(await json.exit, 0);
  t.equal(human.err(), `isohttpd: server ${httpdid} was deleted; its log ends here\n`, 'and says so on stderr');
  t.match(json.out().trimEnd().split('\n').pop(), /^\{"end":"deleted","time":"\S+Z"\}$/, '--json prints the last line as it came');
});

t.test('logs --follow exits 6 when the service stops (SIGTERM), saying so', async (t) => {
  const own = await startService(t);
  const { httpdid, port } = await own.deploy(HANDLER);
  await (await fetch(`http://127.0.0.1:${port}/before`)).text();
  const cli = watch(spawnCli(['logs', String(httpdid), '--follow'], { ISOHTTPD_URL: own.url }));
  await cli.until(/hit \/before\n/, 'the backlog (the stream is open)');
  own.proc.kill('SIGTERM');
  t.equal(await cli.exit, 6, 'not 0: the server was not deleted');
  t.match(cli.err(), /^isohttpd: the isohttpd API at http:\/\/127\.0\.0\.1:\d+ ended the stream: the service is stopping\n$/);
});

t.test('logs --follow exits 6 when the service goes away', async (t) => {
  const own = await startService(t);
  const { httpdid, port } = await own.deploy(HANDLER);
  await (await fetch(`http://127.0.0.1:${port}/before`)).text();
  const cli = watch(spawnCli(['logs', String(httpdid), '--follow'], { ISOHTTPD_URL: own.url }));
  await cli.until(/hit \/before\n/, 'the backlog (the stream is open)');
  own.proc.kill('SIGKILL');
  t.equal(await cli.exit, 6);
  t.match(cli.err(), /^isohttpd: the connection to the isohttpd API at http:\/\/127\.0\.0\.1:\d+ broke: \S+/);
});
