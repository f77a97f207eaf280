// The client CLI's answers to API errors: one line on stderr with the API's status and code, and the exit code of its kind.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { assertFailure, EXIT, runCli, runMany } from './helpers/cli.js';
import { example, freePort, startService } from './helpers/service.js';

t.test('API errors carry the status and code, with their exit codes', async (t) => {
  const svc = await startService(t);
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ISOHTTPD_URL: svc.url };
  const good = path.join(dir, 'good.js');
  writeFileSync(good, example('hello.js'));
  const bad = path.join(dir, 'bad.js');
  writeFileSync(bad, 'export default function (request) {\n  return 1 +;\n}\n');

  const notFound = /^isohttpd: 404 ISO_ERR_API_NOT_FOUND: no server with httpdid 9\n$/;
  const port = await freePort();
  const cases: Array<[string, string[], number, RegExp]> = [
    ['show of an unknown server', ['show', '9'], EXIT.notFound, notFound],
    ['rm of an unknown server', ['rm', '9'], EXIT.notFound, notFound],
    ['logs of an unknown server', ['logs', '9'], EXIT.notFound, notFound],
    ['logs --follow of an unknown server', ['logs', '9', '--follow'], EXIT.notFound, notFound],
    ['a source that does not compile', ['deploy', bad, '--port', String(port)], EXIT.invalidSource, /^isohttpd: 422 ISO_ERR_API_INVALID_SOURCE: SyntaxError: .* at line 2, column \d+\n$/],
    ['a host the policy refuses', ['deploy', good, '--port', String(port), '--host', '10.9.8.7'], EXIT.forbidden, /^isohttpd: 403 ISO_ERR_API_ADDRESS_NOT_ALLOWED: host "10\.9\.8\.7" is not allowed/],
    ['a port the schema refuses', ['deploy', good, '--port', '0'], EXIT.apiError, /^isohttpd: 400 ISO_ERR_API_BAD_REQUEST: body\.port must be >= 1\n$/],
    ['a limit over its ceiling', ['deploy', good, '--port', String(port), '--memory-mb', '4096'], EXIT.apiError, /^isohttpd: 400 ISO_ERR_API_BAD_REQUEST: body\.limits\.memoryMb must be <= 512\n$/],
  ];
  const results = await runMany(
    cases.map(([, args]) => args),
    env,
  );
  cases.forEach(([name, , code, message], i) => assertFailure(t, results[i] ?? { code: null, stdout: '', stderr: '' }, code, message, name));

  const first = await runCli(['deploy', good, '--port', String(port)], env);
  t.equal(first.code, 0, first.stderr);
  assertFailure(t, await runCli(['deploy', good, '--port', String(port)], env), EXIT.apiError, /^isohttpd: 409 ISO_ERR_API_ADDRESS_IN_USE: /, 'an address in use');
  t.equal((await svc.api('GET', '/servers')).body.servers.length, 1, 'only the first deploy created a server');
});
