// The client CLI sends ISOHTTPD_TOKEN (or --token) as `Authorization: Bearer …`, and nothing when there is none; a 401 exits 4 with the API's code.

import http from 'node:http';
import t from 'tap';
import { assertFailure, EXIT, runCli } from './helpers/cli.js';

/** A real HTTP server on loopback that records each request's method, path and Authorization header, and answers like the API would. */
async function recordingApi(t: { teardown(fn: () => unknown): void }): Promise<{ url: string; seen: Array<{ method: string; url: string; authorization: string | undefined }> }> {
  const seen: Array<{ method: string; url: string; authorization: string | undefined }> = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    res.setHeader('content-type', 'application/json');
    if (req.headers.authorization === 'Bearer wrong') {
      res.statusCode = 401;
      res.end(JSON.stringify({ error: { code: 'ISO_ERR_API_UNAUTHORIZED', message: 'the token is not valid' } }));
      return;
    }
    res.end(JSON.stringify({ servers: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}`, seen };
}

t.test('the token goes in Authorization: Bearer', async (t) => {
  const api = await recordingApi(t);
  const withEnv = { ISOHTTPD_URL: api.url, ISOHTTPD_TOKEN: 'from-env' };
  const fromEnv = await runCli(['ls', '--json'], withEnv);
  t.equal(fromEnv.code, 0, fromEnv.stderr);
  t.same(JSON.parse(fromEnv.stdout), { servers: [] });
  const fromFlag = await runCli(['ls', '--json', '--token', 'from-flag'], withEnv);
  t.equal(fromFlag.code, 0, fromFlag.stderr);
  const unset = await runCli(['ls'], { ISOHTTPD_URL: api.url });
  t.equal(unset.code, 0, unset.stderr);
  const blank = await runCli(['ls'], { ISOHTTPD_URL: api.url, ISOHTTPD_TOKEN: '' });
  t.equal(blank.code, 0, blank.stderr);
  t.same(
    api.seen,
    [
      { method: 'GET', url: '/servers', authorization: 'Bearer from-env' },
      { method: 'GET', url: '/servers', authorization: 'Bearer from-flag' },
      { method: 'GET', url: '/servers', authorization: undefined },
      { method: 'GET', url: '/servers', authorization: undefined },
    ],
    'ISOHTTPD_TOKEN, overridden by --token; none (or an empty one) sends no Authorization header',
  );
});

t.test('a 401 is one line with the code and exit 4', async (t) => {
  const api = await recordingApi(t);
  assertFailure(
    t,
    await runCli(['ls'], { ISOHTTPD_URL: api.url, ISOHTTPD_TOKEN: 'wrong' }),
    EXIT.forbidden,
    /^isohttpd: 401 ISO_ERR_API_UNAUTHORIZED: the token is not valid; check ISOHTTPD_TOKEN \(or --token\): the token was refused or is missing\n$/,
    'wrong token',
  );
});
