// A stored server whose address is not configured on this machine at start-up (EADDRNOTAVAIL: an interface not up yet at boot) is waited out like an address in use: shown `failed` with a reason saying it is retried, never marked failed in the registry, retried each second; a stored `failed` server is kept failed; both decisions are logged.

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import t from 'tap';
import { example, startService, tempDataDir } from './helpers/service.js';

/** The registry's row of a server, read (or changed) while no service runs on the data dir. */
function withRegistry<T>(dataDir: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(join(dataDir, 'isohttpd.sqlite'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

t.test('an address not configured at start-up is retried, never failed for good', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // ::2 is an address no interface of this machine has: binding it is EADDRNOTAVAIL (no traffic is sent).
  const config = join(dataDir, 'config.json');
  writeFileSync(config, JSON.stringify({ allowedHosts: ['127.0.0.1', '::2'] }));
  const env = { ISOHTTPD_LOG_LEVEL: 'info' };
  const first = await startService(t, ['--config', config], env, { dataDir });
  const moved = await first.deploy(example('hello.js'));
  const kept = await first.deploy(example('hello.js'));
  await first.stop();
  // As if the server had been created on an address this machine had then (and will have again).
  withRegistry(dataDir, (db) => {
    db.prepare('UPDATE servers SET host = ? WHERE httpdid = ?').run('::2', moved.httpdid);
    db.prepare("UPDATE servers SET state = 'failed', reason = ? WHERE httpdid = ?").run('it crashed its worker 3 times', kept.httpdid);
  });

  const svc = await startService(t, ['--config', config], env, { dataDir });
  const waiting = (await svc.api('GET', `/servers/${moved.httpdid}`)).body;
  t.equal(waiting.state, 'failed', 'not serving while the address is missing');
  t.match(
    waiting.reason,
    /not restored yet: ::2 port \d+ cannot be bound here \(EADDRNOTAVAIL\) .*retried every 1 s until it can be bound; still running in the registry/,
    'the reason says it is retried',
  );
  t.match(svc.output(), /server not restored yet: a transient cause \(::2 port \d+ cannot be bound here \(EADDRNOTAVAIL\)\); retrying/, 'the decision is logged');
  t.match(svc.output(), /server kept failed: it was failed before the restart/, 'keeping a failed server is logged');
  t.equal((await svc.api('GET', `/servers/${kept.httpdid}`)).body.reason, 'it crashed its worker 3 times', 'a stored failed server keeps its reason');
  // Retried (1 s apart) without ever failing it for good.
  await new Promise((r) => setTimeout(r, 2500));
  t.equal((await svc.api('GET', `/servers/${moved.httpdid}`)).body.state, 'failed', 'still waiting');
  await svc.stop();
  const row = withRegistry(dataDir, (db) => db.prepare('SELECT state, reason FROM servers WHERE httpdid = ?').get(moved.httpdid));
  t.same(row, { state: 'running', reason: null }, 'the registry never marked it failed');
});
