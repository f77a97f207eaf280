// The egress policy's pure parts: addresses and CIDRs (IPv4, IPv6, IPv4 carried in IPv6), every denied range and the operator's opened networks, the allow list's hosts, ports and wildcards.

import t from 'tap';
import { DENIED_NETWORKS, deniedReason, parseAddress, parseCidr, parseNetworks } from '../src/core/cidr.js';
import { AllowList, parseEntry } from '../src/host/worker/egress/policy.js';

const denied = (a: string, opened: string[] = []): string | null => {
  const addr = parseAddress(a);
  if (addr === null) throw new Error(`not an address: ${a}`);
  return deniedReason(addr, parseNetworks(opened));
};

t.test('addresses and CIDRs', async (t) => {
  t.same(parseAddress('10.1.2.3'), { v6: false, value: 0x0a010203n });
  t.same(parseAddress('::1'), { v6: true, value: 1n });
  t.same(parseAddress('[::ffff:127.0.0.1]'), { v6: true, value: 0xffff7f000001n }, 'brackets, a dotted tail');
  t.same(parseAddress('1::1.2.3.4'), { v6: true, value: (1n << 112n) | 0x01020304n });
  t.equal(parseAddress('fe80::1%eth0'), null, 'no zone');
  t.equal(parseAddress('example.com'), null);
  t.equal(parseAddress('1.2.3'), null);
  t.same(parseCidr('10.0.0.0/8')?.bits, 8);
  t.equal(parseCidr('10.0.0.0/33'), null);
  t.equal(parseCidr('10.0.0.0/x'), null);
  t.equal(parseCidr('::/129'), null);
  t.same(parseCidr('127.0.0.2')?.bits, 32, 'no length: one address');
  t.throws(() => parseNetworks(['10.0.0.0/8', 'nope']), /"nope" is not a CIDR range/);
});

t.test('every denied range is denied (its base address, and addresses inside and next to them), in every IPv6 form of an IPv4 address', async (t) => {
  for (const [range, why] of DENIED_NETWORKS) {
    const c = parseCidr(range);
    if (c === null) throw new Error(range);
    const addr = range.split('/')[0] as string;
    t.equal(denied(addr), why, `${range} (${why})`);
  }
  const cases: Array<[string, string | null]> = [
    ['127.255.255.255', 'loopback'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.127.255.255', 'shared address space (carrier-grade NAT)'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', null],
    ['192.169.0.1', null],
    ['8.8.8.8', null],
    ['93.184.216.34', null],
    ['255.255.255.255', 'broadcast'],
    ['239.1.2.3', 'multicast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00:ec2::254', 'unique local (private; cloud metadata fd00:ec2::254)'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2606:4700::1111', null],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local (cloud metadata)'],
    ['::ffff:8.8.8.8', null],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::8.8.8.8', null],
    ['2002:7f00:1::', 'loopback'],
    ['2002:0808:0808::', null],
  ];
  for (const [a, why] of cases) t.equal(denied(a), why, `${a}: ${why ?? 'allowed'}`);
});

t.test("the operator's networks open what they cover, also in an IPv6 form, and nothing else", async (t) => {
  t.equal(denied('127.0.0.1', ['127.0.0.0/8']), null);
  t.equal(denied('::ffff:127.0.0.1', ['127.0.0.0/8']), null, 'the mapped form of an opened address');
  t.equal(denied('127.0.0.2', ['127.0.0.2/32']), null);
  t.equal(denied('127.0.0.1', ['127.0.0.2/32']), 'loopback', 'a neighbour stays denied');
  t.equal(denied('::1', ['127.0.0.0/8']), 'loopback', 'IPv6 loopback is not IPv4 loopback');
  t.equal(denied('::1', ['::1/128']), null);
  t.equal(denied('10.0.0.1', ['127.0.0.0/8']), 'private');
});

t.test('allow-list entries', async (t) => {
  t.same(parseEntry('API.Example.com'), { host: 'api.example.com', wildcard: false, port: null });
  t.same(parseEntry('*.example.org:8443'), { host: 'example.org', wildcard: true, port: 8443 });
  t.same(parseEntry('[::1]:9000'), { host: '::1', wildcard: false, port: 9000 });
  t.same(parseEntry('127.0.0.1:80'), { host: '127.0.0.1', wildcard: false, port: 80 });
  for (const bad of ['', 'http://x.com', 'x.com/path', 'x.com:0', 'x.com:70000', '*.[::1]', 'a..b', '-a.com', 'user@x.com', '*.*.x.com'])
    t.equal(parseEntry(bad), null, `refused: ${JSON.stringify(bad)}`);
  t.throws(() => new AllowList(['ok.com', 'not ok']), /"not ok" is not a host/);
});

t.test('matching URLs: hosts, default ports, wildcards below a domain only', async (t) => {
  const list = new AllowList(['api.example.com', '*.example.org:8443', '127.0.0.1:9000', '[::1]:9001']);
  const ok = (u: string): boolean => list.allows(new URL(u));
  t.ok(ok('https://api.example.com/x'), 'default port 443');
  t.ok(ok('http://API.example.com./x'), 'case and a final dot');
  t.notOk(ok('https://api.example.com:8443/'), 'another port');
  t.notOk(ok('https://evil.api.example.com/'), 'a subdomain of a plain entry');
  t.notOk(ok('https://api.example.com.evil.com/'), 'a suffix trick');
  t.ok(ok('https://a.example.org:8443/'));
  t.ok(ok('https://a.b.example.org:8443/'), 'any depth below');
  t.notOk(ok('https://example.org:8443/'), 'not the domain itself');
  t.notOk(ok('https://a.example.org/'), 'the wildcard entry is for 8443 only');
  t.notOk(ok('https://aexample.org:8443/'));
  t.ok(ok('http://127.0.0.1:9000/'));
  t.notOk(ok('http://127.0.0.1:9001/'));
  t.ok(ok('http://[::1]:9001/'));
  t.ok(ok('http://[0:0::1]:9001/'), 'an IPv6 literal written another way');
  t.ok(ok('http://127.1:9000/'), 'the URL parser normalizes 127.1 to 127.0.0.1 before the match');
});
