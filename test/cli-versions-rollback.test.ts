// `isohttpd versions` lists the kept versions (the serving one starred, the source's SHA-256), `isohttpd rollback [--to V]` redeploys one, by httpdid or by name.

import { createHash } from 'node:crypto';
import t from 'tap';
import { EXIT, runCli } from './helpers/cli.js';
import { freePort, startService } from './helpers/service.js';

const v = (n: number): string => `export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'v${n}' });`;

t.test('versions and rollback from the CLI', async (t) => {
  const svc = await startService(t);
  const env = { ISOHTTPD_URL: svc.url };
  const port = await freePort();
  const created = await svc.api('POST', '/servers', { name: 'site', host: '127.0.0.1', port, source: v(1) });
  await svc.api('PUT', '/servers/site', { source: v(2) });
  const list = await runCli(['versions', 'site'], env);
  t.equal(list.code, EXIT.ok, list.stderr);
  const lines = list.stdout.trimEnd().split('\n');
  t.match(lines[0], /^VERSION +CREATED +SHA256 +BYTES +MEMORY +TIMEOUT$/);
  t.match(lines[1], new RegExp(`^2 \\* .* ${createHash('sha256').update(v(2)).digest('hex').slice(0, 12)} `), 'the serving version starred, with its hash');
  t.match(lines[2], /^1 +\S+/);
  const back = await runCli(['rollback', 'site'], env);
  t.equal(back.code, EXIT.ok, back.stderr);
  t.equal(back.stdout, 'rolled site back: now version 3\n');
  t.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'v1');
  const to = await runCli(['rollback', String(created.body.httpdid), '--to', '2', '--json'], env);
  t.equal(to.code, EXIT.ok);
  t.match(JSON.parse(to.stdout), { version: 4, name: 'site' });
  t.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'v2');
  const gone = await runCli(['rollback', 'site', '--to', '42'], env);
  t.equal(gone.code, EXIT.notFound);
  t.match(gone.stderr, /404 ISO_ERR_API_VERSION_NOT_FOUND: server \d+ keeps no version 42/);
  const json = await runCli(['versions', 'site', '--json'], env);
  t.match(JSON.parse(json.stdout), { current: 4, versions: [{ version: 4, current: true }] });
});
