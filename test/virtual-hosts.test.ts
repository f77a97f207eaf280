// Virtual hosts: two tenants' servers on one port, each request routed by its Host (absolute-form authority first); exact names beat wildcards, the longest wildcard suffix wins; an unknown Host is 421; a connection stays with the server of its first request.

import { rmSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { exchange, parseResponses } from './helpers/raw-http.js';
import { addTenant, freePort, startService, tempDataDir } from './helpers/service.js';
import { ask, deployVhost, text } from './helpers/vhosts.js';

t.test('two tenants share one port, routed by Host', async (t) => {
  const dataDir = tempDataDir();
  const alice = addTenant(dataDir, 'alice');
  const bob = addTenant(dataDir, 'bob');
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const svc = await startService(t, [], {}, { dataDir });
  const port = await freePort();

  const a = await deployVhost(svc, port, ['Alice.Example.', '*.alice.example'], 'A', alice);
  t.equal(a.status, 201, JSON.stringify(a.body));
  t.same(a.body.hostnames, ['alice.example', '*.alice.example'], 'normalised: lower case, no trailing dot');
  const api = await deployVhost(svc, port, ['api.alice.example'], 'API', alice);
  t.equal(api.status, 201, JSON.stringify(api.body));
  const eu = await deployVhost(svc, port, ['*.eu.alice.example'], 'EU', alice);
  t.equal(eu.status, 201, JSON.stringify(eu.body));
  const b = await deployVhost(svc, port, ['bob.example'], 'B', bob);
  t.equal(b.status, 201, 'another tenant joins the address with a name of its own');
  t.equal(b.body.port, port);

  t.match(text(await ask(port, 'alice.example')), /^A alice\.example #/);
  t.match(text(await ask(port, 'bob.example')), /^B bob\.example #/);
  t.match(text(await ask(port, 'BOB.example.:' + port)), /^B /, 'case, trailing dot and port do not matter');
  // Exact beats wildcard; the longest wildcard suffix wins.
  t.match(text(await ask(port, 'api.alice.example')), /^API /, 'exact name over *.alice.example');
  t.match(text(await ask(port, 'www.alice.example')), /^A /, 'the wildcard');
  t.match(text(await ask(port, 'deep.www.alice.example')), /^A /, 'a wildcard matches several labels');
  t.match(text(await ask(port, 'x.eu.alice.example')), /^EU /, '*.eu.alice.example over *.alice.example');
  t.match(text(await ask(port, 'eu.alice.example')), /^A /, 'a wildcard does not match its own suffix');

  // RFC 9112 §3.2.2: an absolute-form target's authority is the Host, whatever the Host field says.
  const absolute = await ask(port, 'alice.example', 'http://bob.example/x');
  t.equal(absolute.status, 200);
  t.match(text(absolute), /^B bob\.example #/, 'routed by the absolute-form authority; the handler sees it as Host');

  // No server claims it: 421 with the code's text, closing.
  for (const host of ['carol.example', 'alice.example.evil', 'example', '127.0.0.1', `[::1]:${port}`]) {
    const r = await ask(port, host);
    t.equal(r.status, 421, `421 for ${host}`);
    t.match(text(r), /no server at this address answers for this Host/);
    t.equal(r.headers['connection'], 'close');
  }
  const noHost = await ask(port, null, '/', '1.0');
  t.equal(noHost.status, 421, 'an HTTP/1.0 request without Host matches no name');

  // Stats stay per server.
  const statsOf = async (id: number, token: string): Promise<number> => (await svc.api('GET', `/servers/${id}`, undefined, token)).body.stats.requests;
  t.equal(await statsOf(b.body.httpdid, bob), 3, "bob's server counted only its own requests");
  t.equal(await statsOf(api.body.httpdid, alice), 1);
  t.equal(await statsOf(eu.body.httpdid, alice), 1);
  const list = await svc.api('GET', '/servers', undefined, bob);
  t.same(
    list.body.servers.map((s: { httpdid: number }) => s.httpdid),
    [b.body.httpdid],
    'a tenant still lists only its own servers of the shared port',
  );
});

t.test('a connection stays with the server of its first request', async (t) => {
  const svc = await startService(t);
  const port = await freePort();
  t.equal((await deployVhost(svc, port, ['one.example'], 'ONE')).status, 201);
  const two = await deployVhost(svc, port, ['two.example'], 'TWO');
  t.equal(two.status, 201);
  const head = (host: string, close = false): string => `GET / HTTP/1.1\r\nHost: ${host}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
  // Keep-alive: the same Host twice is served twice; another one after them is 421 and the connection closes.
  const out = parseResponses(await exchange(port, [head('one.example'), head('ONE.example'), head('two.example'), head('one.example', true)]));
  t.same(
    out.map((r) => r.status),
    [200, 200, 421],
    'served, served, refused; nothing after the 421',
  );
  t.match(out[2]?.body.toString() ?? '', /this connection serves another Host/);
  t.equal((await svc.api('GET', `/servers/${two.body.httpdid}`)).body.stats.requests, 0, 'the other server never saw the request');
});

t.test('a fallback server answers the Hosts nobody claims (config virtualHosts.fallbackServers)', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = `${dataDir}/config.json`;
  // A fresh data dir: the first server created is httpdid 1.
  writeFileSync(config, JSON.stringify({ virtualHosts: { fallbackServers: [1] } }));
  const svc = await startService(t, ['--config', config], {}, { dataDir });
  const port = await freePort();
  const first = await deployVhost(svc, port, ['main.example'], 'MAIN');
  t.equal(first.body.httpdid, 1);
  t.equal((await deployVhost(svc, port, ['other.example'], 'OTHER')).status, 201);
  t.match(text(await ask(port, 'unknown.example')), /^MAIN unknown\.example/, 'the fallback');
  t.match(text(await ask(port, '127.0.0.1')), /^MAIN /, 'an IP literal too');
  t.match(text(await ask(port, 'other.example')), /^OTHER /, 'a claimed name still goes to its server');
});
