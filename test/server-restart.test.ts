// `POST /servers/:httpdid/restart` (and `isohttpd restart`) brings a failed server back: binds its address and deploys its current version again, records it running (so a restart of the service restores it); a running server is refused with 409, a policy that still refuses the address with 403.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { EXIT, runCli } from './helpers/cli.js';
import { example, freePort, startService, tempDataDir } from './helpers/service.js';

t.test('a failed server restarted, by API and CLI', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const cdir = mkdtempSync(path.join(tmpdir(), 'isohttpd-restart-'));
  t.teardown(() => rmSync(cdir, { recursive: true, force: true }));

  const first = await startService(t, [], {}, { dataDir });
  const created = await first.api('POST', '/servers', { name: 'phoenix', host: '127.0.0.1', port: await freePort(), source: example('hello.js') });
  t.equal(created.status, 201, JSON.stringify(created.body));
  const { httpdid, port } = created.body as { httpdid: number; port: number };
  await first.stop();

  // The operator reserves its port: the restore refuses it for good.
  const strict = path.join(cdir, 'strict.json');
  writeFileSync(strict, JSON.stringify({ reservedPorts: [port] }));
  const second = await startService(t, ['--config', strict], {}, { dataDir });
  const failed = await second.api('GET', '/servers/phoenix');
  t.equal(failed.body.state, 'failed');
  t.match(failed.body.reason, /could not be restored at start-up: .*reserved/);
  const refused = await second.api('POST', '/servers/phoenix/restart');
  t.equal(refused.status, 403, 'the policy still refuses it');
  t.equal(refused.body.error.code, 'ISO_ERR_API_ADDRESS_NOT_ALLOWED');
  t.equal((await second.api('GET', '/servers/phoenix')).body.state, 'failed', 'and it stays failed');
  await second.stop();

  // The reservation lifted: it is still failed (as stored) until restarted.
  const third = await startService(t, [], {}, { dataDir });
  t.equal((await third.api('GET', `/servers/${httpdid}`)).body.state, 'failed', 'stored failed: not restored by itself');
  const cli = await runCli(['restart', 'phoenix'], { ISOHTTPD_URL: third.url });
  t.equal(cli.code, EXIT.ok, cli.stderr);
  t.equal(cli.stdout, `restarted phoenix on http://127.0.0.1:${port}/ (version 1)\n`);
  const view = (await third.api('GET', '/servers/phoenix')).body;
  t.equal(view.state, 'running');
  t.notOk('reason' in view, 'no reason once running');
  t.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'Hello from isohttpd! You asked for /\n', 'serving');
  const again = await third.api('POST', `/servers/${httpdid}/restart`);
  t.equal(again.status, 409);
  t.equal(again.body.error.code, 'ISO_ERR_API_SERVER_RUNNING');
  const cliAgain = await runCli(['restart', String(httpdid)], { ISOHTTPD_URL: third.url });
  t.equal(cliAgain.code, EXIT.apiError);
  t.match(cliAgain.stderr, /409 ISO_ERR_API_SERVER_RUNNING: server \d+ is running; restart is for a failed server/);
  t.equal((await third.api('POST', '/servers/nope/restart')).status, 404);
  await third.stop();

  const fourth = await startService(t, [], {}, { dataDir });
  t.equal((await fourth.api('GET', '/servers/phoenix')).body.state, 'running', 'recorded running: restored at the next start');
});
