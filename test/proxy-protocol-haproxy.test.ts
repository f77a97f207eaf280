// A real HAProxy in front, configured by `isohttpd lb haproxy` with send-proxy-v2: the handler sees the client's own address and port; a balancer address without a header is closed; any other address is served as itself.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { startHaproxy } from './helpers/haproxy.js';
import { BALANCER, CLIENT, ECHO_PEER, exchangeFrom, GET, proxiedService } from './helpers/proxy-protocol.js';
import { freePort } from './helpers/service.js';

/** The JSON body of a raw response. */
function body(bytes: Buffer): { ip: string; port: number } {
  const text = bytes.toString('latin1');
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { ip: string; port: number };
}

t.test('through HAProxy the handler sees the client, not the balancer', async (t) => {
  const svc = await proxiedService(t, [`${BALANCER}/32`]);
  // The node binds 127.0.0.1:P; the balancer's public address is 127.0.0.10:P (the same port on its own address).
  const port = await freePort('127.0.0.1');
  const created = await svc.api('POST', '/servers', { host: '127.0.0.1', port, source: ECHO_PEER });
  t.equal(created.status, 201, 'deployed');

  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-lb-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = path.join(dir, 'haproxy.cfg');
  const lb = await runCli(['lb', 'haproxy', '--url', svc.url, '--bind', BALANCER, '--source', BALANCER, '--out', cfg]);
  t.equal(lb.code, 0, `lb haproxy exits 0 ${lb.stderr}`);
  const config = readFileSync(cfg, 'utf8');
  t.match(config, `bind ${BALANCER}:${port}`, 'a frontend on the public address');
  t.match(config, /send-proxy-v2/, 'PROXY v2 to the node');
  const haproxy = await startHaproxy(t, config, [{ host: BALANCER, port }]);

  const via = await exchangeFrom(CLIENT, BALANCER, port, [GET]);
  t.match(via.bytes.toString('latin1'), /^HTTP\/1\.1 200 /, `answered through HAProxy ${haproxy.output()}`);
  t.same(body(via.bytes), { ip: CLIENT, port: via.localPort }, "the handler saw the client's address and port");

  const again = await exchangeFrom(CLIENT, BALANCER, port, [GET]);
  t.same(body(again.bytes), { ip: CLIENT, port: again.localPort }, 'and on a second connection, its new port');
  t.not(again.localPort, via.localPort, 'two client ports');
});

t.test('direct connections: from the balancer address without a header closed; from another address served as itself', async (t) => {
  const svc = await proxiedService(t, [`${BALANCER}/32`]);
  const { port } = await svc.deploy(ECHO_PEER);

  const spoofable = await exchangeFrom(BALANCER, '127.0.0.1', port, [GET]);
  t.ok(spoofable.closed, 'closed by the service');
  t.equal(spoofable.bytes.length, 0, 'without a response');

  const plain = await exchangeFrom(CLIENT, '127.0.0.1', port, [GET]);
  t.match(plain.bytes.toString('latin1'), /^HTTP\/1\.1 200 /, 'served');
  t.same(body(plain.bytes), { ip: CLIENT, port: plain.localPort }, 'with its own address and port');
});
