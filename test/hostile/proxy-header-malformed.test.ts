// Hostile PROXY headers from the balancer's address: oversize, truncated then stalled, v1 text, a second header after the first: each closed (or 400) with no spoofed address reaching the handler, logged, and the server still serving.

import t from 'tap';
import { BALANCER, ECHO_PEER, exchangeFrom, GET, proxiedService, proxyV2 } from '../helpers/proxy-protocol.js';
import { until } from '../helpers/until.js';

t.test('malformed PROXY headers from the balancer', async (t) => {
  const svc = await proxiedService(t, [`${BALANCER}/32`]);
  // The header wait is bounded by the server's headersTimeoutMs.
  const { port } = await svc.deploy(ECHO_PEER, { headersTimeoutMs: 500 });
  const from = (parts: ReadonlyArray<string | Buffer>, idleMs?: number) => exchangeFrom(BALANCER, '127.0.0.1', port, parts, idleMs);

  const over = await from([proxyV2('6.6.6.6', 1, '127.0.0.1', port, 600), Buffer.alloc(600), GET]);
  t.ok(over.closed && over.bytes.length === 0, 'a length past 536 bytes: closed without a response');

  const huge = await from([proxyV2('6.6.6.6', 1, '127.0.0.1', port, 0xffff)]);
  t.ok(huge.closed && huge.bytes.length === 0, 'the largest length field: closed at its fixed part, nothing more awaited');

  // The client waits far longer than the server's header timeout: the close is the server's.
  const stalled = await from([proxyV2('6.6.6.6', 1, '127.0.0.1', port).subarray(0, 3)], 30_000);
  t.ok(stalled.closed && stalled.bytes.length === 0, 'three bytes then a stall: closed by the header timeout, without a response');

  const cut = await from([proxyV2('6.6.6.6', 1, '127.0.0.1', port).subarray(0, 20)], 30_000);
  t.ok(cut.closed && cut.bytes.length === 0, 'a header cut inside its addresses, then a stall: closed');

  const v1 = await from(['PROXY TCP4 6.6.6.6 127.0.0.1 1 80\r\n', GET]);
  t.ok(v1.closed && v1.bytes.length === 0, 'a v1 text header: closed without a response');

  const twice = await from([proxyV2('127.0.0.9', 4242, '127.0.0.1', port), proxyV2('6.6.6.6', 1, '127.0.0.1', port), GET]);
  const text = twice.bytes.toString('latin1');
  t.match(text, /^HTTP\/1\.1 400 /, 'a second header is not one: the HTTP codec refuses it, 400');
  t.notMatch(text, /6\.6\.6\.6/, 'the second header never names the client');

  t.ok(await until(() => /closed at its PROXY header/.test(svc.output()), 10_000), 'the refusals are logged');
  const ok = await from([proxyV2('127.0.0.9', 4242, '127.0.0.1', port), GET]);
  t.match(ok.bytes.toString('latin1'), /"ip":"127\.0\.0\.9","port":4242/, 'a good header still works afterwards');
});
