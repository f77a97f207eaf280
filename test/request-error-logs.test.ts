// A request that did not end ok goes to its server's logs as a `request` entry (id, method, path, outcome, status, detail, an exception's stack with the line and column of the tenant's source), in `GET /logs`, `?follow=1` and `isohttpd logs`.

import t from 'tap';
import { runCli } from './helpers/cli.js';
import { follow } from './helpers/follow.js';
import { startService } from './helpers/service.js';

// Line and column numbers below are computed from this very text, as deployed.
const HANDLER = `// a comment line
function inner(what) {
  return new Error('secret detail: ' + what);
}
export default async function handler(request) {
  console.log('seen ' + request.path);
  if (request.path === '/throw') throw inner('sync');
  if (request.path === '/reject') { await null; throw new RangeError('async detail'); }
  if (request.path === '/getter') { const e = new Error('with a hostile stack'); Object.defineProperty(e, 'stack', { get() { throw new Error('no'); } }); throw e; }
  if (request.path === '/invalid') return { version: '1.1', statuscode: 'x', headers: {}, message: '' };
  return { version: '1.1', statuscode: 200, headers: {}, message: 'fine' };
}
`;

/** 1-based line and column of the first `needle` in the handler's source. */
function where(needle: string): { line: number; column: number } {
  const at = HANDLER.indexOf(needle);
  const before = HANDLER.slice(0, at).split('\n');
  return { line: before.length, column: (before.at(-1) ?? '').length + 1 };
}

interface Entry {
  kind: string;
  level: string;
  time: string;
  message?: string;
  requestId?: string;
  method?: string;
  path?: string;
  outcome?: string;
  status?: number;
  detail?: string;
  stack?: string;
}

t.test('request entries in GET /logs, ?follow=1 and isohttpd logs', async (t) => {
  const svc = await startService(t);
  const { httpdid, port } = await svc.deploy(HANDLER);
  const follower = await follow(svc.url, httpdid);
  t.teardown(() => follower.response.destroy());
  const ids: Record<string, string> = {};
  for (const path of ['/throw', '/reject', '/getter', '/invalid']) {
    const r = await fetch(`http://127.0.0.1:${port}${path}?q=1`, { method: path === '/reject' ? 'POST' : 'GET', body: path === '/reject' ? 'x' : null });
    ids[path] = r.headers.get('x-request-id') ?? '';
    t.equal(r.status, 500, path);
    t.notOk((await r.text()).includes('detail'), `${path}: no detail in the body`);
  }
  await follower.waitFor((lines) => lines.filter((l) => (l as Entry).kind === 'request').length >= 4, 15_000, 'four request entries followed');

  const res = await svc.api('GET', `/servers/${httpdid}/logs`);
  t.equal(res.status, 200);
  const entries = res.body.lines as Entry[];
  const consoleLines = entries.filter((e) => e.kind === 'console');
  t.same(
    consoleLines.map((e) => e.message),
    ['seen /throw', 'seen /reject', 'seen /getter', 'seen /invalid'],
    'console lines are kind console',
  );
  const requests = entries.filter((e) => e.kind === 'request');
  t.equal(requests.length, 4, 'one request entry per failed request');
  const byPath = new Map(requests.map((e) => [e.path, e]));

  const sync = byPath.get('/throw');
  t.match(sync, { level: 'error', requestId: ids['/throw'], method: 'GET', path: '/throw', outcome: 'exception', status: 500, detail: 'handler raised: secret detail: sync' }, 'the exception entry');
  t.ok(!Number.isNaN(Date.parse(sync?.time ?? '')), 'with a time');
  const made = where("new Error('secret detail");
  const thrownAt = where("throw inner('sync')");
  const frames = (sync?.stack ?? '').split('\n');
  t.equal(frames[0], 'Error: secret detail: sync', 'the stack starts with the error');
  t.ok(
    frames.some((f) => f.includes(`inner (handler.js:${made.line}:${made.column})`)),
    `the frame where the error was made: handler.js:${made.line}:${made.column} in ${JSON.stringify(frames)}`,
  );
  t.ok(
    frames.some((f) => f.includes(`handler (handler.js:${thrownAt.line}:${thrownAt.column + 'throw '.length})`)),
    `the handler's frame: line ${thrownAt.line}`,
  );

  const rejected = byPath.get('/reject');
  t.match(rejected, { method: 'POST', outcome: 'exception', detail: 'handler raised: async detail' }, 'a rejection');
  const rangeAt = where("new RangeError('async detail')");
  t.match(rejected?.stack, new RegExp(`^RangeError: async detail\\n\\s+at handler \\(handler\\.js:${rangeAt.line}:${rangeAt.column}\\)`), 'its stack, line and column of the source');

  const getter = byPath.get('/getter');
  t.match(getter, { outcome: 'exception', detail: 'handler raised: with a hostile stack' }, 'a stack getter that throws loses only the stack');
  t.equal(getter?.stack, undefined);

  t.match(byPath.get('/invalid'), { outcome: 'invalidResponse', status: 500, detail: /^invalid response: response\.statuscode/ }, 'an invalid response, why');
  t.equal(byPath.get('/invalid')?.stack, undefined, 'no stack');

  const followed = follower.lines as Entry[];
  t.same(
    followed.filter((e) => e.kind === 'request'),
    requests,
    '?follow=1 streams the same entries',
  );

  const cli = await runCli(['logs', String(httpdid)], { ISOHTTPD_URL: svc.url });
  t.equal(cli.code, 0);
  t.match(
    cli.stdout,
    new RegExp(
      `Z\\s+error\\s+request ${ids['/throw']} GET /throw -> 500 exception: handler raised: secret detail: sync\\n    Error: secret detail: sync\\n    at inner \\(handler\\.js:${made.line}:${made.column}\\)\\n`,
    ),
    'isohttpd logs: a request line, its stack indented',
  );
  t.match(cli.stdout, /Z\s+log\s+seen \/throw\n/, 'console lines as before');
});
