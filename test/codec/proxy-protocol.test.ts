// The PROXY v2 header decoder (src/host/http1/proxy-protocol.ts): headers HAProxy's spec allows and those it refuses, each fed whole, byte by byte and split at every position.

import t from 'tap';
import { ipv6, PROXY_V2_MAX_BYTES, ProxyHeaderDecoder, type ProxyHeader } from '../../src/host/http1/proxy-protocol.js';
import { splits } from '../helpers/split.js';

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A v2 header: version/command byte, family/transport byte, then `body` (its length field from `len`, default the body's size). */
function header(verCmd: number, famProto: number, body: Buffer, len = body.length): Buffer {
  const fixed = Buffer.alloc(4);
  fixed[0] = verCmd;
  fixed[1] = famProto;
  fixed.writeUInt16BE(len, 2);
  return Buffer.concat([SIG, fixed, body]);
}

function inet(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

function inet6(src: string, dst: string, sport: number, dport: number): Buffer {
  const b = Buffer.alloc(36);
  Buffer.from(src, 'hex').copy(b, 0);
  Buffer.from(dst, 'hex').copy(b, 16);
  b.writeUInt16BE(sport, 32);
  b.writeUInt16BE(dport, 34);
  return b;
}

function tlv(type: number, value: Buffer): Buffer {
  const h = Buffer.alloc(3);
  h[0] = type;
  h.writeUInt16BE(value.length, 1);
  return Buffer.concat([h, value]);
}

type Seen = { header: ProxyHeader; after: string } | { refused: string } | 'incomplete';

/** Feeds `chunks`; the header and every byte after it (as latin1), the refusal, or 'incomplete'. */
function decode(chunks: Buffer[]): Seen {
  const d = new ProxyHeaderDecoder();
  for (let i = 0; i < chunks.length; i++) {
    const r = d.push(chunks[i] ?? Buffer.alloc(0));
    if (r.kind === 'refused') return { refused: r.reason };
    if (r.kind === 'header') return { header: r.header, after: Buffer.concat([r.rest, ...chunks.slice(i + 1)]).toString('latin1') };
  }
  return 'incomplete';
}

const REQUEST = 'GET / HTTP/1.1\r\nHost: h\r\n\r\n';

const accepted: Array<[string, Buffer, Omit<ProxyHeader, 'bytes'>]> = [
  [
    'TCP over IPv4',
    header(0x21, 0x11, inet([203, 0, 113, 7], [127, 0, 0, 10], 51234, 8080)),
    { command: 'proxy', source: { address: '203.0.113.7', port: 51234 }, destination: { address: '127.0.0.10', port: 8080 } },
  ],
  [
    'TCP over IPv6',
    header(0x21, 0x21, inet6('20010db8000000000000000000000001', '00000000000000000000000000000001', 443, 65535)),
    { command: 'proxy', source: { address: '2001:db8::1', port: 443 }, destination: { address: '::1', port: 65535 } },
  ],
  [
    'TCP over IPv4 with TLVs (ALPN, NOOP, an unknown type): skipped',
    header(0x21, 0x11, Buffer.concat([inet([10, 1, 2, 3], [10, 0, 0, 1], 1, 2), tlv(0x01, Buffer.from('http/1.1')), tlv(0x04, Buffer.alloc(0)), tlv(0xe0, Buffer.alloc(40, 7))])),
    { command: 'proxy', source: { address: '10.1.2.3', port: 1 }, destination: { address: '10.0.0.1', port: 2 } },
  ],
  ['LOCAL (a health check): the socket addresses', header(0x20, 0x00, Buffer.alloc(0)), { command: 'local', source: null, destination: null }],
  ['LOCAL with addresses: ignored (§2.2), the length skipped', header(0x20, 0x11, inet([1, 2, 3, 4], [5, 6, 7, 8], 9, 10)), { command: 'local', source: null, destination: null }],
  ['PROXY over UNSPEC: the socket addresses', header(0x21, 0x00, Buffer.from('anything')), { command: 'proxy', source: null, destination: null }],
];

for (const [name, bytes, want] of accepted) {
  t.test(`accepted: ${name}`, async (t) => {
    for (const [how, chunks] of splits(Buffer.concat([bytes, Buffer.from(REQUEST)]))) {
      t.same(decode(chunks), { header: { ...want, bytes: bytes.length }, after: REQUEST }, how);
    }
  });
}

const refused: Array<[string, Buffer, RegExp]> = [
  ['an HTTP request', Buffer.from(REQUEST), /no PROXY v2 signature/],
  ['a v1 text header', Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n'), /v1 text header/],
  ['a signature wrong in its last byte', Buffer.concat([SIG.subarray(0, 11), Buffer.from([0x0b, 0x21, 0x11, 0, 12]), Buffer.alloc(12)]), /signature/],
  ['version 1 in the binary form', header(0x11, 0x11, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)), /version 1/],
  ['version 3', header(0x31, 0x11, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)), /version 3/],
  ['command 2', header(0x22, 0x11, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)), /command 2/],
  ['family 4', header(0x21, 0x41, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)), /family 4/],
  ['transport 3', header(0x21, 0x13, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)), /transport 3/],
  ['UDP over IPv4', header(0x21, 0x12, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)), /only TCP/],
  ['UNIX stream', header(0x21, 0x31, Buffer.alloc(216)), /only TCP/],
  ['IPv4 with no transport', header(0x21, 0x10, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)), /only TCP/],
  ['IPv4 with a length shorter than its addresses', header(0x21, 0x11, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2).subarray(0, 8)), /shorter than its addresses/],
  ['IPv6 with the length of IPv4 addresses', header(0x21, 0x21, Buffer.alloc(12)), /shorter than its addresses/],
  ['oversize: 16 + 521 bytes', header(0x21, 0x11, Buffer.alloc(PROXY_V2_MAX_BYTES - 16 + 1)), /537 bytes \(at most 536\)/],
  ['the largest length field', header(0x21, 0x11, Buffer.alloc(12), 0xffff), /65551 bytes/],
  ['a truncated TLV', header(0x21, 0x11, Buffer.concat([inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), Buffer.from([0x04, 0x00])])), /truncated TLV/],
  ['a TLV longer than the header', header(0x21, 0x11, Buffer.concat([inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), Buffer.from([0x04, 0x00, 0x05, 1, 2])])), /TLV longer/],
];

for (const [name, bytes, reason] of refused) {
  t.test(`refused: ${name}`, async (t) => {
    for (const [how, chunks] of splits(Buffer.concat([bytes, Buffer.from(REQUEST)]))) {
      const seen = decode(chunks);
      t.ok(typeof seen === 'object' && 'refused' in seen && reason.test(seen.refused), how, { seen });
    }
  });
}

t.test('a header is judged while it arrives: a bad fixed part is refused before the rest, a wrong byte at once', async (t) => {
  const over = header(0x21, 0x11, Buffer.alloc(600));
  t.match(new ProxyHeaderDecoder().push(over.subarray(0, 16)), { kind: 'refused', reason: /at most 536/ }, 'oversize refused from its 16 fixed bytes');
  t.match(new ProxyHeaderDecoder().push(Buffer.from('P')), { kind: 'refused', reason: /v1/ }, 'a v1 header from its first byte');
  t.match(new ProxyHeaderDecoder().push(Buffer.from([0x0d, 0x0a, 0x0d])), { kind: 'more' }, 'three good bytes: more wanted');
});

t.test('a header cut short at any point is incomplete, never accepted', async (t) => {
  const whole = header(0x21, 0x11, Buffer.concat([inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), tlv(0x04, Buffer.alloc(3))]));
  for (let cut = 1; cut < whole.length; cut++) t.equal(decode([whole.subarray(0, cut)]), 'incomplete', `first ${cut} bytes`);
});

t.test('after a header or a refusal nothing more is decoded', async (t) => {
  const d = new ProxyHeaderDecoder();
  t.equal(d.push(header(0x20, 0x00, Buffer.alloc(0))).kind, 'header');
  t.equal(d.push(header(0x20, 0x00, Buffer.alloc(0))).kind, 'refused', 'a second header is not read as one');
  const e = new ProxyHeaderDecoder();
  t.equal(e.push(Buffer.from('GET')).kind, 'refused');
  t.equal(e.push(header(0x20, 0x00, Buffer.alloc(0))).kind, 'refused', 'no header after a refusal');
});

t.test('IPv6 addresses as RFC 5952 text', async (t) => {
  const cases: Array<[string, string]> = [
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000100010001000100010001', '2001:db8:1:1:1:1:1:1'],
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    ['00000000000000000000ffffcb007107', '::ffff:203.0.113.7'],
    ['fe800000000000000000000000000000', 'fe80::'],
  ];
  for (const [hex, text] of cases) t.equal(ipv6(Buffer.from(hex, 'hex'), 0), text, text);
});
