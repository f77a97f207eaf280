// A PUT that cannot be applied (422 source, 400 body or limits, 404 httpdid) leaves the old version serving and the version unchanged.

import t from 'tap';
import { freePort, startService } from './helpers/service.js';
import { exchange, parseResponses } from './helpers/raw-http.js';

const V1 = "export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'v1' });";

/** Fresh connections (spread over the replicas by the kernel): every answer must be v1. */
async function allV1(port: number): Promise<boolean> {
  for (let i = 0; i < 8; i++) {
    const [r] = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', { idleMs: 10_000 }));
    if (r?.status !== 200 || r.body.toString() !== 'v1') return false;
  }
  return true;
}

t.test('refused updates change nothing', async (t) => {
  const svc = await startService(t, ['--workers', '2']);
  const created = await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: V1, replicas: 2 });
  t.equal(created.status, 201);
  const { httpdid, port } = created.body as { httpdid: number; port: number };
  const put = (body: unknown): Promise<{ status: number; body: any }> => svc.api('PUT', `/servers/${httpdid}`, body);

  const invalidSources: Array<[string, RegExp]> = [
    ['export default (', /line 1/],
    ['export default 5', /default export must be a function/],
    ['throw new Error("boom")', /module evaluation failed: Error: boom/],
    ["import x from 'fs'; export default x", /imports are not available/],
    ['while (true) {}', /module evaluation exceeded the time limit/],
  ];
  for (const [source, message] of invalidSources) {
    const r = await put({ source });
    t.equal(r.status, 422, `422 for ${JSON.stringify(source)}`);
    t.equal(r.body.error.code, 'ISO_ERR_API_INVALID_SOURCE');
    t.match(r.body.error.message, message);
  }

  const badBodies: Array<[unknown, RegExp]> = [
    [{}, /body must have source, limits, exposeErrors, vars or egress/],
    [{ source: V1, replicas: 2 }, /body\.replicas is not an allowed field/],
    [{ limits: { memoryMb: 1 } }, /body\.limits\.memoryMb must be >= 8/],
    [{ limits: { timeoutMs: 'fast' } }, /body\.limits\.timeoutMs must be an integer/],
    [{ limits: { noSuchLimit: 1 } }, /body\.limits\.noSuchLimit is not an allowed field/],
    [{ source: '' }, /body\.source must NOT have fewer than 1 characters/],
    [{ source: 42 }, /body\.source must be a string/],
  ];
  for (const [body, message] of badBodies) {
    const r = await put(body);
    t.equal(r.status, 400, `400 for ${JSON.stringify(body)}`);
    t.equal(r.body.error.code, 'ISO_ERR_API_BAD_REQUEST');
    t.match(r.body.error.message, message);
  }
  const malformed = await svc.api('PUT', `/servers/${httpdid}`, '{"source":');
  t.equal(malformed.status, 400);
  t.equal(malformed.body.error.code, 'ISO_ERR_API_MALFORMED_JSON');

  const missing = await svc.api('PUT', '/servers/999', { source: V1 });
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, 'ISO_ERR_API_NOT_FOUND');
  const badId = await svc.api('PUT', '/servers/ABC', { source: V1 });
  t.equal(badId.status, 400);

  const view = await svc.api('GET', `/servers/${httpdid}?source=1`);
  t.equal(view.body.version, 1, 'version unchanged');
  t.equal(view.body.source, V1, 'source unchanged');
  t.equal(view.body.limits.memoryMb, 64, 'limits unchanged');
  t.ok(await allV1(port), 'both replicas still serve v1');

  // A valid limits-only update then applies, merged into the current limits.
  const ok = await put({ limits: { timeoutMs: 2000 } });
  t.equal(ok.status, 200);
  t.equal(ok.body.version, 2);
  t.equal(ok.body.limits.timeoutMs, 2000);
  t.equal(ok.body.limits.memoryMb, 64, 'other limits kept');
  t.ok(await allV1(port), 'same source after a limits-only update');
});

t.test('a source over the size limit is 413', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { httpdid, port } = await svc.deploy(V1);
  const big = `${V1}\n//${'x'.repeat(1024 * 1024)}`;
  const r = await svc.api('PUT', `/servers/${httpdid}`, { source: big });
  t.equal(r.status, 413);
  t.equal(r.body.error.code, 'ISO_ERR_API_BODY_TOO_LARGE');
  t.equal((await svc.api('GET', `/servers/${httpdid}`)).body.version, 1);
  t.ok(await allV1(port));
});
