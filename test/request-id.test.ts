// Request ids: every API answer carries x-request-id (the client's when it is sane, else a new one), and the JSON log lines of that request carry it as reqId.

import t from 'tap';
import { startService, type Service } from './helpers/service.js';

/** The service's JSON log lines so far (stdout lines that parse as objects). */
function logLines(svc: Service): Array<Record<string, unknown>> {
  return svc
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        const o = JSON.parse(line) as unknown;
        return typeof o === 'object' && o !== null ? [o as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
}

/** Waits until the service has logged the end of the request with this id (pino writes asynchronously). */
async function completed(svc: Service, id: string): Promise<Array<Record<string, unknown>>> {
  for (let i = 0; i < 200; i++) {
    const mine = logLines(svc).filter((l) => l['reqId'] === id);
    if (mine.some((l) => l['msg'] === 'request completed')) return mine;
    await new Promise((r) => setTimeout(r, 25));
  }
  return logLines(svc).filter((l) => l['reqId'] === id);
}

const svc = await startService(t, [], { ISOHTTPD_LOG_LEVEL: 'info' });

t.test("a client's x-request-id is echoed and logged as reqId", async (t) => {
  const res = await fetch(`${svc.url}/servers`, { headers: { 'x-request-id': 'trace-4f2a.91:b' } });
  t.equal(res.status, 200);
  t.equal(res.headers.get('x-request-id'), 'trace-4f2a.91:b');
  const lines = await completed(svc, 'trace-4f2a.91:b');
  t.same(
    lines.map((l) => l['msg']),
    ['incoming request', 'request completed'],
    'both log lines of the request carry it',
  );
  t.match(lines[0], { req: { method: 'GET', url: '/servers' } });
});

t.test('without one, the service makes one up, answers it and logs it', async (t) => {
  const a = await fetch(`${svc.url}/healthz`);
  const b = await fetch(`${svc.url}/healthz`);
  const idA = a.headers.get('x-request-id') ?? '';
  const idB = b.headers.get('x-request-id') ?? '';
  t.match(idA, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a UUID');
  t.not(idA, idB, 'a new one per request');
  t.equal((await completed(svc, idA)).length, 2, 'the generated id is in the log lines');
});

t.test('an unusable x-request-id is replaced, never logged', async (t) => {
  for (const given of ['has space', 'x'.repeat(129), 'quote"inside', '']) {
    const res = await fetch(`${svc.url}/healthz`, { headers: { 'x-request-id': given } });
    const id = res.headers.get('x-request-id') ?? '';
    t.not(id, given, `${JSON.stringify(given.slice(0, 20))} is replaced`);
    t.match(id, /^[0-9a-f-]{36}$/);
    t.equal((await completed(svc, id)).length, 2);
  }
  t.notOk(
    logLines(svc).some((l) => l['reqId'] === 'has space'),
    'the refused id is not in the log',
  );
});

t.test('errors and unknown routes carry the id too', async (t) => {
  const notFound = await fetch(`${svc.url}/servers/77`, { headers: { 'x-request-id': 'err-404' } });
  t.equal(notFound.status, 404);
  t.equal(notFound.headers.get('x-request-id'), 'err-404');
  const noRoute = await fetch(`${svc.url}/nope`, { headers: { 'x-request-id': 'err-route' } });
  t.equal(noRoute.status, 404);
  t.equal(noRoute.headers.get('x-request-id'), 'err-route');
  const badJson = await fetch(`${svc.url}/servers`, { method: 'POST', headers: { 'x-request-id': 'err-json', 'content-type': 'application/json' }, body: '{' });
  t.equal(badJson.status, 400);
  t.equal(badJson.headers.get('x-request-id'), 'err-json');
  t.match(await completed(svc, 'err-json'), [{ msg: 'incoming request' }, { msg: 'request completed', res: { statusCode: 400 } }]);
});
