// Hostile clients of a shared address: a flood of unknown Hosts, odd Host values, a pipelined request smuggled to a neighbour's name, and connections held to exhaust one server; each is refused without reaching another server, and the legitimate names keep being served.

import net from 'node:net';
import t from 'tap';
import { exchange, parseResponses } from '../helpers/raw-http.js';
import { freePort, startService } from '../helpers/service.js';
import { ask, deployVhost, text } from '../helpers/vhosts.js';

t.test('odd and unknown Host values never reach a server that does not claim them', async (t) => {
  const svc = await startService(t);
  const port = await freePort();
  const a = (await deployVhost(svc, port, ['a.example'], 'A')).body;
  const b = (await deployVhost(svc, port, ['b.example', '*.b.example'], 'B')).body;
  const requestsOf = async (id: number): Promise<number> => (await svc.api('GET', `/servers/${id}`)).body.stats.requests;

  // A flood of random Hosts, 50 connections at a time: each is 421 and closed.
  let refused = 0;
  for (let round = 0; round < 6; round++) {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => ask(port, `r${round}-${i}-${Math.random().toString(36).slice(2)}.example`)));
    refused += answers.filter((r) => r.status === 421).length;
  }
  t.equal(refused, 300, 'every unknown Host: 421');
  t.equal(await requestsOf(a.httpdid), 0, 'none reached a');
  t.equal(await requestsOf(b.httpdid), 0, 'none reached b');

  for (const [host, expect] of [
    ['a.example..', 421],
    ['%61.example', 421],
    [`${'x'.repeat(4000)}.example`, 421],
    ['a.example.b.example.evil', 421],
    ['a-example', 421],
    ['[::ffff:127.0.0.1]', 421],
    ['0x7f.0.0.1', 421],
    ['user@a.example', 400],
    ['a.example:port', 400],
    ['a.example b.example', 400],
  ] as const) {
    const r = await ask(port, host);
    t.equal(r.status, expect, `Host ${host.slice(0, 40)}: ${expect}`);
  }
  // A literal "*" label is just a name under b's wildcard: it is b's to answer.
  t.match(text(await ask(port, '*.b.example')), /^B /);
  // Two Host fields are refused by the codec before any routing.
  const two = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n'));
  t.equal(two[0]?.status, 400);
  t.equal(await requestsOf(a.httpdid), 0, 'a still saw nothing');

  // Smuggling: a request for b pipelined behind one for a on the same connection is 421; b never sees it.
  const smuggled = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nHost: a.example\r\n\r\nPOST /steal HTTP/1.1\r\nHost: b.example\r\nContent-Length: 2\r\n\r\nhi'));
  t.same(
    smuggled.map((r) => r.status),
    [200, 421],
  );
  t.equal(await requestsOf(b.httpdid), 1, 'b counted only its literal-* request');
  t.match(text(await ask(port, 'a.example')), /^A /, 'a serves on');
});

t.test("holding connections to one server cannot take another's", async (t) => {
  const svc = await startService(t);
  const port = await freePort();
  t.equal((await deployVhost(svc, port, ['greedy.example'], 'G', undefined, { limits: { maxConnections: 2, keepAliveTimeoutMs: 30_000 } })).status, 201);
  t.equal((await deployVhost(svc, port, ['quiet.example'], 'Q')).status, 201);
  // Two keep-alive connections pinned to greedy (its maxConnections), held open.
  const held: net.Socket[] = [];
  t.teardown(() => {
    for (const s of held) s.destroy();
  });
  for (let i = 0; i < 2; i++) {
    const s = net.connect(port, '127.0.0.1');
    held.push(s);
    await new Promise<void>((resolve) => {
      s.once('data', () => resolve());
      s.write('GET / HTTP/1.1\r\nHost: greedy.example\r\n\r\n');
    });
  }
  const third = await ask(port, 'greedy.example');
  t.equal(third.status, 503, 'a third connection to greedy: over its maxConnections');
  t.match(text(third), /too many open connections to this server/);
  t.match(text(await ask(port, 'quiet.example')), /^Q /, 'its neighbour is served');
});

t.test('a neighbour with larger head limits does not lift a server’s own', async (t) => {
  const svc = await startService(t);
  const port = await freePort();
  const strict = { maxHeaderBytes: 1024, maxHeaderFields: 4, maxRequestLineBytes: 256 };
  t.equal((await deployVhost(svc, port, ['strict.example'], 'S', undefined, { limits: strict })).status, 201);
  t.equal((await deployVhost(svc, port, ['roomy.example'], 'R', undefined, { limits: { maxHeaderBytes: 65536, maxHeaderFields: 100, maxRequestLineBytes: 8192 } })).status, 201);
  const one = async (host: string, extra: string, target = '/'): Promise<number> =>
    parseResponses(await exchange(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`))[0]?.status ?? 0;
  const big = `X-Big: ${'b'.repeat(2000)}\r\n`;
  const many = Array.from({ length: 5 }, (_, i) => `X-${i}: v\r\n`).join('');
  const long = `/${'p'.repeat(400)}`;
  t.equal(await one('strict.example', big), 431, "strict's maxHeaderBytes holds on the shared address");
  t.equal(await one('strict.example', many), 431, "strict's maxHeaderFields");
  t.equal(await one('strict.example', '', long), 414, "strict's maxRequestLineBytes");
  t.equal(await one('roomy.example', big + many, long), 200, "roomy's larger limits are its own");
  t.equal(await one('strict.example', ''), 200);
});
