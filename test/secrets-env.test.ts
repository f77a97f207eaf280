// Variables and secrets: the handler gets them frozen in its second argument `env`; secrets are write-only through the API (listed by name, never returned), sealed at rest (not in the database file in clear), kept across a restart with the data dir's key, and each change is a hot redeploy of the serving version.

import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startService, tempDataDir } from './helpers/service.js';

const HANDLER = `export default function handler(request, env) {
  let writable = true;
  try { env.GREETING = 'changed'; writable = env.GREETING === 'changed'; } catch (_) { writable = false; }
  return { version: '1.1', statuscode: 200, headers: { 'content-type': 'application/json' }, message: JSON.stringify({ env, frozen: Object.isFrozen(env), writable }) };
}
`;

const SECRET = 'sk_live_5f3c9d0e-NEVER-SHOWN';

interface Seen {
  env: Record<string, string>;
  frozen: boolean;
  writable: boolean;
}

async function seen(port: number): Promise<Seen> {
  const r = await fetch(`http://127.0.0.1:${port}/`);
  return (await r.json()) as Seen;
}

t.test('variables and secrets reach the handler; secrets never come back out', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const svc = await startService(t, [], {}, { dataDir });
  const { httpdid, port } = await svc.deploy(HANDLER, undefined, undefined, { name: 'envy', vars: { GREETING: 'hello', MODE: 'test' } });

  t.same(await seen(port), { env: { GREETING: 'hello', MODE: 'test' }, frozen: true, writable: false }, 'the variables, frozen');
  const view = (await svc.api('GET', '/servers/envy')).body;
  t.same(view.vars, { GREETING: 'hello', MODE: 'test' }, 'variables are shown');
  t.same(view.secrets, [], 'no secrets yet');

  const put = await svc.api('PUT', '/servers/envy/secrets/API_KEY', { value: SECRET });
  t.equal(put.status, 200, `PUT a secret: ${JSON.stringify(put.body)}`);
  t.match(put.body, { name: 'API_KEY', updatedAt: /Z$/ });
  t.notMatch(JSON.stringify(put.body), SECRET, 'the answer does not echo the value');
  t.same((await seen(port)).env, { GREETING: 'hello', MODE: 'test', API_KEY: SECRET }, 'the handler has it right after the answer');
  const after = (await svc.api('GET', '/servers/envy?source=1')).body;
  t.equal(after.version, view.version, 'a secret change redeploys the serving version: the version number stays');
  t.same(after.secrets, ['API_KEY'], 'listed by name');

  // Nowhere in the API: the server, its list, versions with sources, the secret list, logs.
  const everything = [
    await svc.api('GET', '/servers'),
    await svc.api('GET', '/servers/envy?source=1'),
    await svc.api('GET', '/servers/envy/versions?source=1'),
    await svc.api('GET', '/servers/envy/secrets'),
    await svc.api('GET', '/servers/envy/logs'),
    await svc.api('GET', '/metrics'),
  ];
  for (const a of everything) t.notMatch(typeof a.body === 'string' ? a.body : JSON.stringify(a.body), SECRET, 'the value is never returned');
  t.match((await svc.api('GET', '/servers/envy/secrets')).body, { secrets: [{ name: 'API_KEY', updatedAt: /Z$/ }] });

  // A secret wins over a variable of the same name.
  t.equal((await svc.api('PUT', '/servers/envy/secrets/MODE', { value: 'secret-mode' })).status, 200);
  t.equal((await seen(port)).env['MODE'], 'secret-mode');
  t.equal((await svc.api('DELETE', '/servers/envy/secrets/MODE')).status, 204);
  t.equal((await seen(port)).env['MODE'], 'test', 'deleted: the variable shows again');
  const again = await svc.api('DELETE', '/servers/envy/secrets/MODE');
  t.equal(again.status, 404);
  t.equal(again.body.error.code, 'ISO_ERR_API_SECRET_NOT_FOUND');

  // At rest: sealed. No file of the data dir holds the value in clear.
  await svc.stop();
  for (const f of readdirSync(dataDir)) {
    const p = path.join(dataDir, f);
    if (statSync(p).isFile()) t.notOk(readFileSync(p).includes(Buffer.from(SECRET)), `${f} does not hold the value in clear`);
  }
  t.equal(statSync(path.join(dataDir, 'secrets.key')).mode & 0o777, 0o600, 'the key file is 0600');

  // Restarted on the same data dir: opened with its key.
  const svc2 = await startService(t, [], {}, { dataDir });
  t.equal((await seen(port)).env['API_KEY'], SECRET, 'restored with its secret');
  t.equal((await svc2.api('GET', `/servers/${httpdid}`)).body.state, 'running');
  await svc2.stop();

  // Another key: the server fails with the reason, the service starts.
  writeFileSync(path.join(dataDir, 'other.key'), `${'ab'.repeat(32)}\n`);
  writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ secretsKeyFile: path.join(dataDir, 'other.key') }));
  const svc3 = await startService(t, ['--config', path.join(dataDir, 'config.json')], {}, { dataDir });
  const failed = (await svc3.api('GET', `/servers/${httpdid}`)).body;
  t.equal(failed.state, 'failed', 'a secret that does not open fails its server');
  t.match(failed.reason, /secret API_KEY of server \d+ does not open with this service's secrets key/);
  await svc3.stop();
});

t.test('variables are part of the version: PUT replaces them, rollback restores them, the same ones are a no-op', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER, undefined, undefined, { name: 'vv', vars: { A: '1' } });
  const v2 = await svc.api('PUT', '/servers/vv', { vars: { B: '2' } });
  t.equal(v2.status, 200);
  t.equal(v2.body.version, 2);
  t.same((await seen(port)).env, { B: '2' }, 'replaced as a whole');
  t.equal((await svc.api('PUT', '/servers/vv', { vars: { B: '2' } })).body.version, 2, 'the same variables: nothing deployed');
  t.equal((await svc.api('POST', '/servers/vv/rollback', {})).body.version, 3);
  t.same((await seen(port)).env, { A: '1' }, "the rollback brings version 1's variables back");
});

t.test('bad input', async (t) => {
  const svc = await startService(t);
  await svc.deploy(HANDLER, undefined, undefined, { name: 'bad' });
  for (const [what, call, code, message] of [
    ['a bad secret name', ['PUT', '/servers/bad/secrets/1NOPE', { value: 'x' }], 'ISO_ERR_API_BAD_REQUEST', /params\.name must be a letter or _/],
    ['an empty value', ['PUT', '/servers/bad/secrets/OK', { value: '' }], 'ISO_ERR_API_BAD_REQUEST', /body\.value/],
    ['a value too long', ['PUT', '/servers/bad/secrets/OK', { value: 'x'.repeat(5121) }], 'ISO_ERR_API_BAD_REQUEST', /body\.value/],
    ['a value that is not a string', ['PUT', '/servers/bad/secrets/OK', { value: 42 }], 'ISO_ERR_API_BAD_REQUEST', /body\.value/],
    ['a bad variable name', ['PUT', '/servers/bad', { vars: { 'no-dash': 'x' } }], 'ISO_ERR_API_BAD_REQUEST', /body\.vars/],
    ['a variable not a string', ['PUT', '/servers/bad', { vars: { N: 1 } }], 'ISO_ERR_API_BAD_REQUEST', /body\.vars/],
    ['a secret of a missing server', ['PUT', '/servers/nosuch/secrets/OK', { value: 'x' }], 'ISO_ERR_API_NOT_FOUND', /no server/],
  ] as const) {
    const [method, url, body] = call;
    const r = await svc.api(method, url, body);
    t.equal(r.body?.error?.code, code, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
    t.match(r.body?.error?.message, message);
  }
  t.same((await svc.api('GET', '/servers/bad/secrets')).body, { secrets: [] }, 'nothing was stored');
});
