// Kept versions: every deploy keeps its source, limits and a content hash, the last versionsKept of them (a quota); GET /servers/:id/versions lists them newest first; a rollback deploys a kept one again as a new version; versions survive a restart and go with their server.

import { createHash } from 'node:crypto';
import t from 'tap';
import { configFile, freePort, startService, tempDataDir } from './helpers/service.js';

const v = (n: number): string => `export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'v${n}' });`;
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

t.test('versions listed newest first; rollback to the previous and to a given one', async (t) => {
  const svc = await startService(t);
  const port = await freePort();
  const created = await svc.api('POST', '/servers', { name: 'app', host: '127.0.0.1', port, source: v(1) });
  t.equal(created.status, 201);
  t.equal((await svc.api('PUT', '/servers/app', { source: v(2) })).body.version, 2);
  t.equal((await svc.api('PUT', '/servers/app', { limits: { timeoutMs: 700 } })).body.version, 3);
  const list = await svc.api('GET', '/servers/app/versions');
  t.equal(list.status, 200);
  t.equal(list.body.current, 3);
  t.match(list.body.versions, [
    { version: 3, current: true, sourceSha256: sha(v(2)), limits: { timeoutMs: 700 } },
    { version: 2, current: false, sourceSha256: sha(v(2)), sourceBytes: Buffer.byteLength(v(2)) },
    { version: 1, current: false, sourceSha256: sha(v(1)), limits: { timeoutMs: 1000 } },
  ]);
  t.notOk('source' in list.body.versions[0], 'no source unless asked');
  const withSource = await svc.api('GET', '/servers/app/versions?source=1');
  t.equal(withSource.body.versions[2].source, v(1));

  const back = await svc.api('POST', '/servers/app/rollback', {});
  t.equal(back.status, 200, JSON.stringify(back.body));
  t.equal(back.body.version, 4, 'a rollback is a new version');
  t.equal(back.body.limits.timeoutMs, 1000, "version 2's limits");
  t.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'v2');
  const to1 = await svc.api('POST', '/servers/app/rollback', { version: 1 });
  t.equal(to1.body.version, 5);
  t.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'v1');
  const same = await svc.api('POST', '/servers/app/rollback', { version: 1 });
  t.equal(same.body.version, 5, 'a rollback to what serves already changes nothing');
  const missing = await svc.api('POST', '/servers/app/rollback', { version: 99 });
  t.equal(missing.status, 404);
  t.match(missing.body, { error: { code: 'ISO_ERR_API_VERSION_NOT_FOUND', message: /keeps no version 99 \(kept: 5, 4, 3, 2, 1\)/ } });
  t.equal((await svc.api('POST', '/servers/app/rollback', { version: 0 })).status, 400);
  t.equal((await svc.api('POST', '/servers/app/rollback', { to: 1 })).status, 400, 'unknown fields refused');
  t.equal((await svc.api('GET', '/servers/nope/versions')).status, 404);
});

t.test('only the last versionsKept are kept; the first version has nothing before it', async (t) => {
  const dataDir = tempDataDir();
  const config = configFile(t, { quotas: { versionsKept: 3 } });
  const svc = await startService(t, ['--config', config], {}, { dataDir });
  const created = await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: v(1) });
  const id = created.body.httpdid as number;
  const none = await svc.api('POST', `/servers/${id}/rollback`, {});
  t.equal(none.status, 404);
  t.match(none.body.error.message, /has no kept version before 1 \(kept: 1\)/);
  for (let n = 2; n <= 5; n++) t.equal((await svc.api('PUT', `/servers/${id}`, { source: v(n) })).status, 200);
  const list = await svc.api('GET', `/servers/${id}/versions`);
  t.same(
    list.body.versions.map((x: { version: number }) => x.version),
    [5, 4, 3],
    'the three newest',
  );
  t.equal((await svc.api('POST', `/servers/${id}/rollback`, { version: 2 })).status, 404, 'a dropped version cannot be rolled back to');
  await svc.stop();

  const again = await startService(t, ['--config', config], {}, { dataDir });
  t.same(
    (await again.api('GET', `/servers/${id}/versions`)).body.versions.map((x: { version: number }) => x.version),
    [5, 4, 3],
    'kept across a restart',
  );
  t.equal((await again.api('DELETE', `/servers/${id}`)).status, 204);
  const next = await again.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: v(1) });
  t.same(
    (await again.api('GET', `/servers/${next.body.httpdid}/versions`)).body.versions.map((x: { version: number }) => x.version),
    [1],
    'a new server starts with its own version 1',
  );
});
