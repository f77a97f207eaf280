// The client CLI when the API cannot be reached: one line saying where it looked and why, exit code 6.

import t from 'tap';
import { assertFailure, EXIT, runCli } from './helpers/cli.js';
import { freePort } from './helpers/service.js';

t.test('an API that cannot be reached exits 6 and says where it looked', async (t) => {
  const port = await freePort();
  assertFailure(
    t,
    await runCli(['ls'], { ISOHTTPD_URL: `http://127.0.0.1:${port}` }),
    EXIT.unreachable,
    new RegExp(`^isohttpd: cannot reach the isohttpd API at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED\\n$`),
    'connection refused',
  );
  assertFailure(
    t,
    await runCli(['logs', '1', '--follow', '--url', `http://127.0.0.1:${port}/`]),
    EXIT.unreachable,
    /cannot reach the isohttpd API at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/,
    'logs --follow, connection refused',
  );
  assertFailure(
    t,
    await runCli(['ls'], { ISOHTTPD_URL: 'http://no-such-host.invalid:7070' }),
    EXIT.unreachable,
    /^isohttpd: cannot reach the isohttpd API at http:\/\/no-such-host\.invalid:7070: (ENOTFOUND|EAI_AGAIN)\n$/,
    'a host name that does not resolve',
  );
});
