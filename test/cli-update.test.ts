// `isohttpd update ID FILE` hot-redeploys a server (PUT /servers/:httpdid): the new version serves, a bad source exits 5 and leaves the old one serving.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { assertFailure, EXIT, runCli } from './helpers/cli.js';
import { startService } from './helpers/service.js';

const version = (n: number): string => `export default function handler(request) {
  return { version: '1.1', statuscode: 200, headers: {}, message: 'v${n}' };
}
`;

t.test('update ID FILE', async (t) => {
  const svc = await startService(t);
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ISOHTTPD_URL: svc.url };
  const v2 = path.join(dir, 'v2.js');
  writeFileSync(v2, version(2));
  const v3 = path.join(dir, 'v3.js');
  writeFileSync(v3, version(3));
  const broken = path.join(dir, 'broken.js');
  writeFileSync(broken, 'export default function (request) {\n  return 1 +;\n}\n');
  const { httpdid, port } = await svc.deploy(version(1));
  const body = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/`)).text();
  t.equal(await body(), 'v1');

  const updated = await runCli(['update', String(httpdid), v2], env);
  t.equal(updated.code, 0, updated.stderr);
  t.equal(updated.stdout, `updated httpdid ${httpdid} to version 2\n`);
  t.equal(await body(), 'v2', 'the new version serves');

  const asJson = await runCli(['update', String(httpdid), v3, '--timeout-ms', '700', '--json'], env);
  t.equal(asJson.code, 0, asJson.stderr);
  t.match(JSON.parse(asJson.stdout), { httpdid, port, version: 3, limits: { timeoutMs: 700 } }, "--json is the API's server view");
  t.equal(await body(), 'v3');

  assertFailure(
    t,
    await runCli(['update', String(httpdid), broken], env),
    EXIT.invalidSource,
    /^isohttpd: 422 ISO_ERR_API_INVALID_SOURCE: SyntaxError: .* at line 2, column \d+\n$/,
    'a source that does not compile',
  );
  t.equal(await body(), 'v3', 'the old version still serves after a 422');
  assertFailure(t, await runCli(['update', '999', v2], env), EXIT.notFound, /^isohttpd: 404 ISO_ERR_API_NOT_FOUND: /, 'an unknown server');
});
