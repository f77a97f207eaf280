// Hostile streamed responses: a generator that never yields, one that spins inside next(), a storm of one-byte chunks, one that keeps yielding past its client, and a return() that never ends all stop within the server's limits; the server serves on and the neighbour on the same worker keeps answering.

import net from 'node:net';
import t from 'tap';
import { logsMatching } from '../helpers/logs.js';
import { exchange } from '../helpers/raw-http.js';
import { startService } from '../helpers/service.js';
import { get, hostile, watchNeighbour } from './helpers.js';

const TENANT = hostile(`(request) => {
  const res = (message) => ({ version: '1.1', statuscode: 200, headers: {}, message });
  if (request.path === '/never') return res((async function* () { yield 'x'; await new Promise(() => {}); })());
  if (request.path === '/spin') return res({ [Symbol.iterator]: () => ({ next() { for (;;) {} } }) });
  if (request.path === '/storm') return res((function* () { for (;;) yield 'b'; })());
  if (request.path === '/stubborn') return res((async function* () { try { for (;;) { await null; yield 'y'.repeat(65536); } } finally { await new Promise(() => {}); } })());
  if (request.path === '/getter') return res({ get [Symbol.asyncIterator]() { for (;;) {} } });
  return res('ok');
}`);
const NEIGHBOUR = hostile('() => ({ version: "1.1", statuscode: 200, headers: {}, message: "n" })');

t.test('streamed responses cannot outrun their limits', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const neighbour = await svc.deploy(NEIGHBOUR);
  const { port, httpdid } = await svc.deploy(TENANT, { timeoutMs: 400, responseTimeoutMs: 1500, maxResponseBytes: 104857600 });
  await get(neighbour.port, '/ok');
  const watch = watchNeighbour(neighbour.port);
  const raw = (path: string): Promise<Buffer> => exchange(port, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, { idleMs: 8000 });

  const never = (await raw('/never')).toString('latin1');
  t.match(never, /^HTTP\/1\.1 200/, 'the head went');
  t.notOk(never.endsWith('0\r\n\r\n'), 'a generator that never yields again: cut off');
  t.match(await logsMatching(svc, httpdid, /"outcome":"timeout"/), /handler exceeded its time limit \(400 ms\)/, 'at its timeoutMs');
  t.match((await get(port, '/ok')).text, /^ok \d+$/, 'the server answers after it');

  const spin = (await raw('/spin')).toString('latin1');
  t.notOk(spin.endsWith('0\r\n\r\n'), 'a next() that spins: cut off');
  t.match((await get(port, '/ok')).text, /^ok \d+$/);

  const getter = await get(port, '/getter');
  t.equal(getter.status, 504, 'a spinning iterator getter is handler time before the head: 504');
  t.match((await get(port, '/ok')).text, /^ok \d+$/);

  // One-byte chunks as fast as a generator makes them, to a client that reads: bounded by timeoutMs (the gathering is the handler's time).
  const storm = (await raw('/storm')).toString('latin1');
  t.notOk(storm.endsWith('0\r\n\r\n'), 'an endless storm of tiny chunks is cut off');
  t.ok(storm.length > 1000, `after ${storm.length} bytes`);

  // A client that stops reading while the generator would go on, and whose iterator's return() never settles.
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  sock.write('GET /stubborn HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise<void>((resolve) => sock.once('data', () => resolve()));
  sock.pause();
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.resume();
  sock.on('data', () => undefined);
  await closed;
  t.pass('a body that goes on forever is closed (responseTimeoutMs or timeoutMs)');
  sock.destroy();
  t.match((await get(port, '/ok')).text, /^ok \d+$/, 'and the server serves on');

  const report = await watch.stop();
  t.equal(report.failed, 0, `neighbour: no request failed (${report.count} sent)`);
  t.ok(report.slowestMs < 2000, `neighbour: slowest ${report.slowestMs.toFixed(0)} ms`);
});
