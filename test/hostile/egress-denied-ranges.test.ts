// Hostile outbound fetch: a tenant that allows itself every denied range (loopback, `localhost`, ::1, ::ffff:127.0.0.1, private, link-local metadata, CGNAT, multicast, …) reaches none of them, checked on the address connected to; a redirect from an allowed upstream to a denied address is refused; a host not on the list and a server without an egress field are refused; each refusal is counted.

import t from 'tap';
import { egressService, get, upstream } from '../helpers/egress.js';

const PROBE = `
export default {
  async fetch(request) {
    const target = new URL(request.url).searchParams.get('u');
    try {
      const r = await fetch(target);
      return new Response('reached: ' + r.status + ' ' + (await r.text()));
    } catch (e) {
      return new Response(e.constructor.name + ': ' + e.message, { status: 502 });
    }
  },
};
`;

t.test('denied ranges whatever the allow list says', async (t) => {
  // The operator opens only 127.0.0.2: the allowed upstream lives there.
  const svc = await egressService(t, ['127.0.0.2/32']);
  const victim = await upstream(t, (_req, _body, res) => res.end('secret'));
  const victim6 = await upstream(t, (_req, _body, res) => res.end('secret6'), '::1');
  const open = await upstream(
    t,
    (req, _body, res) => {
      if (req.url === '/to-loopback') res.writeHead(302, { location: `http://127.0.0.1:${victim.port}/` });
      else if (req.url === '/to-localhost') res.writeHead(307, { location: `http://localhost:${victim.port}/` });
      else if (req.url === '/to-metadata') res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' });
      else if (req.url === '/to-file') res.writeHead(302, { location: 'file:///etc/passwd' });
      else res.writeHead(200);
      res.end('open');
    },
    '127.0.0.2',
  );
  const v = victim.port;
  const allow = [
    `127.0.0.1:${v}`,
    `localhost:${v}`,
    `[::1]:${victim6.port}`,
    `[::ffff:127.0.0.1]:${v}`,
    `[::ffff:7f00:1]:${v}`,
    `127.1:${v}`,
    `2130706433:${v}`,
    '0.0.0.0',
    '10.0.0.1',
    '100.64.0.1',
    '169.254.169.254',
    '172.16.0.1',
    '192.0.0.1',
    '192.168.1.1',
    '198.18.0.1',
    '224.0.0.1',
    '240.0.0.1',
    '255.255.255.255',
    '[::]',
    '[fc00::1]',
    '[fd00:ec2::254]',
    '[fe80::1]',
    '[ff02::1]',
    '[64:ff9b::a00:1]',
    `127.0.0.2:${open.port}`,
  ];
  const { port, httpdid } = await svc.deploy(PROBE, undefined, undefined, { egress: { allow } });
  const probe = (u: string): Promise<{ status: number; text: string }> => get(port, `/?u=${encodeURIComponent(u)}`);

  const cases: Array<[string, RegExp]> = [
    [`http://127.0.0.1:${v}/`, /^TypeError: fetch to 127\.0\.0\.1 refused by egress policy \(loopback\)$/],
    [`http://localhost:${v}/`, /^TypeError: fetch to localhost \((127\.0\.0\.1|::1)\) refused by egress policy \(loopback\)$/],
    [`http://[::1]:${victim6.port}/`, /refused by egress policy \(loopback\)/],
    [`http://[::ffff:127.0.0.1]:${v}/`, /refused by egress policy \(loopback\)/],
    [`http://127.1:${v}/`, /fetch to 127\.0\.0\.1 refused by egress policy \(loopback\)/],
    [`http://2130706433:${v}/`, /fetch to 127\.0\.0\.1 refused by egress policy \(loopback\)/],
    ['http://0.0.0.0/', /refused by egress policy \(this network\)/],
    ['http://10.0.0.1/', /^TypeError: fetch to 10\.0\.0\.1 refused by egress policy \(private\)$/],
    ['http://100.64.0.1/', /refused by egress policy \(shared address space/],
    ['http://169.254.169.254/latest/meta-data/', /refused by egress policy \(link-local \(cloud metadata\)\)/],
    ['http://172.16.0.1/', /refused by egress policy \(private\)/],
    ['http://192.0.0.1/', /refused by egress policy \(IETF/],
    ['http://192.168.1.1/', /refused by egress policy \(private\)/],
    ['http://198.18.0.1/', /refused by egress policy \(benchmarking\)/],
    ['http://224.0.0.1/', /refused by egress policy \(multicast\)/],
    ['http://240.0.0.1/', /refused by egress policy \(reserved\)/],
    ['http://255.255.255.255/', /refused by egress policy \(broadcast\)/],
    ['http://[::]/', /refused by egress policy \(unspecified\)/],
    ['http://[fc00::1]/', /refused by egress policy \(unique local/],
    ['http://[fd00:ec2::254]/', /refused by egress policy \(unique local/],
    ['http://[fe80::1]/', /refused by egress policy \(link-local\)/],
    ['http://[ff02::1]/', /refused by egress policy \(multicast\)/],
    ['http://[64:ff9b::a00:1]/', /refused by egress policy \(private\)/],
    [`http://127.0.0.2:${open.port}/to-loopback`, /fetch to 127\.0\.0\.1 refused by egress policy \(loopback\)/],
    [`http://127.0.0.2:${open.port}/to-localhost`, /fetch to localhost \(.*\) refused by egress policy \(loopback\)/],
    [`http://127.0.0.2:${open.port}/to-metadata`, /fetch to 169\.254\.169\.254 refused: not in this server's egress allow list|refused by egress policy/],
    [`http://127.0.0.2:${open.port}/to-file`, /only http: and https: URLs/],
    [`http://127.0.0.2:${open.port + 1}/`, /fetch to 127\.0\.0\.2:\d+ refused: not in this server's egress allow list/],
    ['http://example.com/', /fetch to example\.com refused: not in this server's egress allow list/],
  ];
  for (const [u, want] of cases) {
    const r = await probe(u);
    t.equal(r.status, 502, `${u}: refused`);
    t.match(r.text, want, `${u}: ${r.text}`);
  }
  t.equal(victim.seen.length, 0, 'nothing reached the loopback upstream');
  t.equal(victim6.seen.length, 0, 'nothing reached the ::1 upstream');
  const reached = await probe(`http://127.0.0.2:${open.port}/`);
  t.equal(reached.text, 'reached: 200 open', 'the range the operator opened is reached');

  const s = (await svc.api('GET', `/servers/${httpdid}`)).body.stats as Record<string, number>;
  t.equal(s['egressRefusals'], cases.length, 'every refusal counted');
  t.same((await svc.api('GET', `/servers/${httpdid}`)).body.egress, { allow }, 'the policy is shown');
});

t.test('a server without an egress field has no outbound access', async (t) => {
  const svc = await egressService(t, ['127.0.0.0/8']);
  const up = await upstream(t, (_req, _body, res) => res.end('x'));
  const { port, httpdid } = await svc.deploy(PROBE);
  const r = await get(port, `/?u=${encodeURIComponent(`http://127.0.0.1:${up.port}/`)}`);
  t.equal(r.status, 502);
  t.match(r.text, /^TypeError: fetch to 127\.0\.0\.1:\d+ refused: this server has no egress allow list \(no outbound access\)$/);
  t.equal(up.seen.length, 0, 'nothing reached the upstream, though the operator opened loopback');
  t.notOk('egress' in (await svc.api('GET', `/servers/${httpdid}`)).body, 'no egress shown');
  const bad = await svc.api('POST', '/servers', { host: '127.0.0.1', port: port + 1, source: PROBE, egress: { allow: ['http://x.com/'] } });
  t.equal(bad.status, 400, 'an entry that is not a host is refused by the API');
});
