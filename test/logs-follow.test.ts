// GET /servers/:httpdid/logs?follow=1: the lines so far, then each new console line as NDJSON, until the server is deleted.

import t from 'tap';
import { follow } from './helpers/follow.js';
import { startService } from './helpers/service.js';

const HANDLER = `export default function handler(request) {
  console.log('hit ' + request.path);
  if (request.path === '/warn') console.warn('careful');
  return { version: '1.1', statuscode: 200, headers: {}, message: 'ok' };
}
`;

const messages = (lines: unknown[]): string[] => lines.filter((l) => (l as { end?: string }).end === undefined).map((l) => (l as { message: string }).message);

// One service for the first three (each deploys its own server); the last stops its own.
const svc = await startService(t);

t.test('a follower sees the backlog, then lines of later requests, and the stream ends on DELETE', async (t) => {
  const { httpdid, port } = await svc.deploy(HANDLER);
  await (await fetch(`http://127.0.0.1:${port}/before`)).text();
  // The line reaches the control process after the answer: wait until the API shows it.
  for (let i = 0; i < 100 && (await svc.api('GET', `/servers/${httpdid}/logs`)).body.lines.length === 0; i++) await new Promise((r) => setTimeout(r, 50));

  const f = await follow(svc.url, httpdid);
  t.equal(f.status, 200);
  t.equal(f.contentType, 'application/x-ndjson');
  t.ok(f.response.headers['x-request-id'], 'a streamed answer carries its request id too');
  await f.waitFor((l) => l.length >= 1, 10_000, 'the backlog');
  t.same(messages(f.lines), ['hit /before'], 'the line written before it connected');

  await (await fetch(`http://127.0.0.1:${port}/after-1`)).text();
  await (await fetch(`http://127.0.0.1:${port}/warn`)).text();
  await f.waitFor((l) => l.length >= 4, 10_000, 'the lines of the later requests');
  t.same(messages(f.lines), ['hit /before', 'hit /after-1', 'hit /warn', 'careful'], 'new lines in order, each once');
  for (const line of f.lines) {
    t.match(line, { time: /^\d{4}-\d\d-\d\dT.*Z$/, level: /^(log|warn)$/, message: String }, 'each line is {time, level, message}');
  }
  t.equal((f.lines[3] as { level: string }).level, 'warn');

  // A second follower at the same time sees the same lines.
  const g = await follow(svc.url, httpdid);
  await g.waitFor((l) => l.length >= 4, 10_000, "the second follower's backlog");
  await (await fetch(`http://127.0.0.1:${port}/last`)).text();
  await Promise.all([f, g].map((x) => x.waitFor((l) => messages(l).includes('hit /last'), 10_000, 'the last line')));

  t.equal((await svc.api('DELETE', `/servers/${httpdid}`)).status, 204);
  await Promise.all([f.ended, g.ended]);
  t.pass('both streams ended after DELETE');
  t.same(messages(f.lines), ['hit /before', 'hit /after-1', 'hit /warn', 'careful', 'hit /last']);
  t.match(f.lines[f.lines.length - 1], { end: 'deleted', time: /Z$/ }, 'the last line says the server was deleted');
});

t.test('a follower that goes away does not disturb the next one or the API', async (t) => {
  const { httpdid, port } = await svc.deploy(HANDLER);
  const f = await follow(svc.url, httpdid);
  f.response.destroy();
  await (await fetch(`http://127.0.0.1:${port}/x`)).text();
  const g = await follow(svc.url, httpdid);
  await g.waitFor((l) => messages(l).includes('hit /x'), 10_000, 'the line');
  t.equal((await svc.api('DELETE', `/servers/${httpdid}`)).status, 204);
  await g.ended;
  t.equal((await svc.api('GET', '/healthz')).status, 200);
});

t.test('errors before the stream starts are ordinary JSON errors', async (t) => {
  const missing = await svc.api('GET', '/servers/42/logs?follow=1');
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, 'ISO_ERR_API_NOT_FOUND');
  const bad = await svc.api('GET', '/servers/42/logs?follow=yes');
  t.equal(bad.status, 400);
  t.equal(bad.body.error.code, 'ISO_ERR_API_BAD_REQUEST');
  t.match(bad.body.error.message, /querystring\.follow must be one of "0", "1"/);
});

t.test('a stopping service ends the follow streams', async (t) => {
  const own = await startService(t);
  const { httpdid } = await own.deploy(HANDLER);
  const f = await follow(own.url, httpdid);
  const exited = new Promise<number | null>((r) => own.proc.once('exit', (code) => r(code)));
  own.proc.kill('SIGTERM');
  await f.ended;
  t.match(f.lines[f.lines.length - 1], { end: 'stopping' }, 'the last line says the service is stopping');
  t.equal(await exited, 0, 'the service exits 0 with a follower connected');
});
