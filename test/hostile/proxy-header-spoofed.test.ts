// A PROXY header from an address that is not a balancer's is not honoured: the claimed address never reaches the handler (the bytes are not HTTP: 400), and the client is served as itself.

import t from 'tap';
import { BALANCER, CLIENT, ECHO_PEER, exchangeFrom, GET, proxiedService, proxyV2 } from '../helpers/proxy-protocol.js';

t.test('a spoofed PROXY header from a client address', async (t) => {
  const svc = await proxiedService(t, [`${BALANCER}/32`]);
  const { port } = await svc.deploy(ECHO_PEER);

  const spoofed = await exchangeFrom(CLIENT, '127.0.0.1', port, [proxyV2('6.6.6.6', 1234, '127.0.0.1', port), GET]);
  const text = spoofed.bytes.toString('latin1');
  t.match(text, /^HTTP\/1\.1 400 /, 'not HTTP: 400');
  t.notMatch(text, /6\.6\.6\.6/, 'the claimed address never reaches the handler');

  const plain = await exchangeFrom(CLIENT, '127.0.0.1', port, [GET]);
  t.match(plain.bytes.toString('latin1'), new RegExp(`"ip":"${CLIENT.replaceAll('.', '\\.')}","port":${plain.localPort}`), 'the client is served as itself');
});

t.test("without proxyProtocol no address may send a header, the balancer's neither", async (t) => {
  const svc = await proxiedService(t, []);
  const { port } = await svc.deploy(ECHO_PEER);
  const r = await exchangeFrom(BALANCER, '127.0.0.1', port, [proxyV2('6.6.6.6', 1234, '127.0.0.1', port), GET]);
  t.match(r.bytes.toString('latin1'), /^HTTP\/1\.1 400 /, '400');
  const plain = await exchangeFrom(BALANCER, '127.0.0.1', port, [GET]);
  t.match(plain.bytes.toString('latin1'), /"ip":"127\.0\.0\.10"/, 'served as itself');
});
