// Console lines in the tail are tied to the request whose handler wrote them: written synchronously, or after an await while it is the only request in flight; each line also keeps its request id in GET /logs.

import t from 'tap';
import { tail } from './helpers/follow.js';
import { startService } from './helpers/service.js';

const HANDLER = `export default async function handler(request) {
  console.log('before await ' + request.path);
  await null;
  await new Promise((resolve) => resolve());
  console.warn('after await ' + request.path);
  return { version: '1.1', statuscode: 200, headers: {}, message: 'ok' };
}
`;

interface Entry {
  kind: string;
  path?: string;
  requestId?: string;
  message?: string;
  logs?: Array<{ level: string; message: string }>;
}

t.test('lines before and after an await land in their request entry', async (t) => {
  const svc = await startService(t);
  const { httpdid, port } = await svc.deploy(HANDLER);
  const f = await tail(svc.url, httpdid);
  for (const p of ['/one', '/two']) {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { 'x-request-id': `id${p.slice(1)}` } });
    await r.text();
  }
  await f.waitFor((l) => (l as Entry[]).filter((e) => e.kind === 'request').length >= 2, 10_000, 'two requests');
  const [one, two] = (f.lines as Entry[]).filter((e) => e.kind === 'request');
  t.match(one, {
    path: '/one',
    requestId: 'idone',
    logs: [
      { level: 'log', message: 'before await /one' },
      { level: 'warn', message: 'after await /one' },
    ],
  });
  t.match(two, {
    path: '/two',
    requestId: 'idtwo',
    logs: [
      { level: 'log', message: 'before await /two' },
      { level: 'warn', message: 'after await /two' },
    ],
  });
  t.notOk(
    (f.lines as Entry[]).some((e) => e.kind === 'console'),
    'no line left on its own',
  );
  f.response.destroy();

  const logs = (await svc.api('GET', `/servers/${httpdid}/logs`)).body.lines as Entry[];
  t.match(
    logs.filter((l) => l.message?.includes('/one')),
    [
      { kind: 'console', requestId: 'idone' },
      { kind: 'console', requestId: 'idone' },
    ],
    'the log keeps the request id of each line',
  );
});
