// The filters of a tail: --status (NNN, Nxx, lists), --outcome, --search (path, detail, console lines; any case) and --sample; console lines of no request are shown only without a status or outcome filter.

import t from 'tap';
import { type Follower, tail } from './helpers/follow.js';
import { startService } from './helpers/service.js';

const HANDLER = `export default function handler(request) {
  console.log('serving ' + request.path);
  if (request.path.startsWith('/fail')) throw new Error('Database UNAVAILABLE');
  if (request.path === '/bad') return 42;
  if (request.path.startsWith('/missing')) return { version: '1.1', statuscode: 404, headers: {}, message: 'no' };
  return { version: '1.1', statuscode: 200, headers: {}, message: 'ok' };
}
`;

interface Entry {
  kind: string;
  path?: string;
  status?: number;
  outcome?: string;
  message?: string;
}

const svc = await startService(t);
const { httpdid, port } = await svc.deploy(HANDLER);
const PATHS = ['/a', '/missing', '/fail-1', '/bad', '/b', '/fail-2'];

/** Opens a tail with `query`, sends every path once, then a marker request the filter lets through, and returns the paths of the request entries before it. */
async function shown(query: string, marker: string): Promise<{ paths: string[]; f: Follower }> {
  const f = await tail(svc.url, httpdid, query);
  for (const p of PATHS) await (await fetch(`http://127.0.0.1:${port}${p}`)).text();
  await (await fetch(`http://127.0.0.1:${port}${marker}`)).text();
  await f.waitFor((l) => l.some((e) => (e as Entry).path === marker), 10_000, `the marker ${marker}`);
  f.response.destroy();
  const paths = (f.lines as Entry[]).filter((e) => e.kind === 'request' && e.path !== marker).map((e) => e.path ?? '');
  return { paths, f };
}

t.test('--status: a class, an exact status, a list', async (t) => {
  t.same((await shown('status=5xx', '/fail-m')).paths, ['/fail-1', '/bad', '/fail-2'], '5xx: exceptions and the invalid response');
  t.same((await shown('status=404', '/missing-m')).paths, ['/missing'], '404 only');
  t.same((await shown(`status=${encodeURIComponent('2xx,404')}`, '/m')).paths, ['/a', '/missing', '/b'], 'a list');
});

t.test('--outcome', async (t) => {
  t.same((await shown('outcome=exception', '/fail-m')).paths, ['/fail-1', '/fail-2']);
  t.same((await shown(`outcome=${encodeURIComponent('invalidResponse,exception')}`, '/fail-m')).paths, ['/fail-1', '/bad', '/fail-2']);
});

t.test('--search looks in paths, details and console lines, in any case', async (t) => {
  t.same((await shown('search=database%20unavailable', '/fail-m')).paths, ['/fail-1', '/fail-2'], 'in the detail');
  t.same((await shown('search=SERVING%20%2Fa', '/a-m')).paths, ['/a'], "in the request's console lines");
  t.same((await shown('search=miss', '/miss-m')).paths, ['/missing'], 'in the path');
});

t.test('--sample shows a fraction of the requests', async (t) => {
  const f = await tail(svc.url, httpdid, 'sample=0.25');
  const n = 200;
  for (let i = 0; i < n; i++) await (await fetch(`http://127.0.0.1:${port}/s${i}`)).text();
  // Not sampled itself unless drawn: wait on a tail without sampling instead.
  const all = await tail(svc.url, httpdid);
  await (await fetch(`http://127.0.0.1:${port}/end`)).text();
  await all.waitFor((l) => l.some((e) => (e as Entry).path === '/end'), 10_000, 'the end marker');
  // The sampled tail has had every event the unsampled one had before /end.
  await new Promise((r) => setTimeout(r, 200));
  f.response.destroy();
  all.response.destroy();
  const got = (f.lines as Entry[]).filter((e) => e.kind === 'request' && e.path?.startsWith('/s')).length;
  // Binomial(200, 0.25): mean 50, sd 6.1; 20..80 is about five sd either way.
  t.ok(got >= 20 && got <= 80, `about a quarter of ${n} requests shown (${got})`);
});

t.test('console lines of no request: shown without a status filter, hidden with one', async (t) => {
  // A hot redeploy's module-level line belongs to no request.
  const src = `console.log('module loaded v2');\n${HANDLER}`;
  const plain = await tail(svc.url, httpdid);
  const filtered = await tail(svc.url, httpdid, 'status=5xx');
  t.equal((await svc.api('PUT', `/servers/${httpdid}`, { source: src })).status, 200);
  await plain.waitFor((l) => l.some((e) => (e as Entry).message === 'module loaded v2'), 10_000, 'the module line');
  await (await fetch(`http://127.0.0.1:${port}/fail-x`)).text();
  await filtered.waitFor((l) => l.some((e) => (e as Entry).path === '/fail-x'), 10_000, 'the failure');
  t.notOk(
    (filtered.lines as Entry[]).some((e) => e.kind === 'console'),
    'the filtered tail shows no console line of no request',
  );
  t.match(
    (plain.lines as Entry[]).find((e) => e.message === 'module loaded v2'),
    { kind: 'console', level: 'log' },
    'the plain one shows it as a console entry',
  );
  t.notOk('requestId' in ((plain.lines as Entry[]).find((e) => e.message === 'module loaded v2') ?? {}), 'tied to no request');
  plain.response.destroy();
  filtered.response.destroy();
});
