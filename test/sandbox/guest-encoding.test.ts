// The guest UTF-8 and base64 (src/sandbox/guest/prelude/encoding.js, base64.js) in a real isolate, against Node's own TextEncoder, TextDecoder, btoa and atob.

import t from 'tap';
import { loadGuest } from '../helpers/guest.js';

const ENTRY = `
import { atob, btoa } from './prelude/base64.js';
import { TextDecoder, TextEncoder, utf8Decode, utf8Encode } from './prelude/encoding.js';
const attempt = (f) => { try { return ['ok', f()]; } catch (e) { return ['throws', e.name, e.message]; } };
export const encode = (s) => Array.from(utf8Encode(s));
export const decode = (bytes, fatal) => attempt(() => utf8Decode(new Uint8Array(bytes), fatal));
export const decoder = (label, options, bytes) => attempt(() => { const d = new TextDecoder(label, options); return [d.encoding, d.fatal, d.ignoreBOM, d.decode(new Uint8Array(bytes))]; });
export const decodeInput = () => { const d = new TextDecoder(); const b = new Uint8Array([0, 0x68, 0x69, 0]); return [d.decode(), d.decode(b.buffer), d.decode(b.subarray(1, 3)), d.decode(new DataView(b.buffer, 1, 2)), attempt(() => d.decode('hi'))]; };
export const encodeInto = (s, size) => { const dest = new Uint8Array(size); const r = new TextEncoder().encodeInto(s, dest); return [r.read, r.written, Array.from(dest)]; };
export const encoder = () => { const e = new TextEncoder(); return [e.encoding, Array.from(e.encode()), Array.from(e.encode('é'))]; };
export const b64 = (s) => attempt(() => btoa(s));
export const unb64 = (s) => attempt(() => atob(s));
`;

const STRINGS = ['', 'hello', 'héllo', '€', '𝄞 clef', '日本語', '\u0000\u007f\u0080\u07ff\u0800\uffff', '\ud800', 'a\udc00b', '\ud83d\ude00', '\ud83d'];

t.test('utf8Encode: the bytes Node encodes, lone surrogates as U+FFFD', async (t) => {
  const g = await loadGuest(t, ENTRY);
  for (const s of STRINGS) t.same(await g.call('encode', s), Array.from(new TextEncoder().encode(s)), JSON.stringify(s));
  t.same(await g.call('encode', 42), [0x34, 0x32], 'String(input)');
});

t.test('utf8Decode: what Node decodes, invalid sequences as U+FFFD or a TypeError when fatal', async (t) => {
  const g = await loadGuest(t, ENTRY);
  const sequences = [
    [0x68, 0x69],
    [0xc3, 0xa9],
    [0xe2, 0x82, 0xac],
    [0xf0, 0x9d, 0x84, 0x9e],
    [0xc0, 0x80],
    [0xc3],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xff, 0x41],
    [0x80, 0x80],
    Array.from(Buffer.from('x'.repeat(5000) + '😀'.repeat(3000))),
  ];
  for (const bytes of sequences) {
    const label = bytes.length > 8 ? `${bytes.length} bytes` : bytes.map((b) => b.toString(16)).join(' ');
    t.same(await g.call('decode', bytes, false), ['ok', new TextDecoder().decode(new Uint8Array(bytes))], label);
    let fatal: unknown[];
    try {
      fatal = ['ok', new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes))];
    } catch {
      fatal = ['throws', 'TypeError', 'The encoded data was not valid for encoding utf-8'];
    }
    t.same(await g.call('decode', bytes, true), fatal, `${label}, fatal`);
  }
});

t.test('a truncated multi-byte sequence: one U+FFFD per byte (the WHATWG decoder gives one per maximal subpart)', async (t) => {
  // Pinned as it is: a known difference from Node's decoder, kept until it is changed on purpose.
  const g = await loadGuest(t, ENTRY);
  t.same(await g.call('decode', [0xe2, 0x82], false), ['ok', '\ufffd\ufffd']);
  t.same(await g.call('decode', [0xf0, 0x9d, 0x84, 0x41], false), ['ok', '\ufffd\ufffd\ufffdA']);
  t.same(new TextDecoder().decode(new Uint8Array([0xe2, 0x82])), '\ufffd', "Node's decoder");
  t.same(await g.call('decode', [0xe2, 0x82], true), ['throws', 'TypeError', 'The encoded data was not valid for encoding utf-8']);
});

t.test('TextDecoder: utf-8 labels only, BOM, fatal, inputs', async (t) => {
  const g = await loadGuest(t, ENTRY);
  const bom = [0xef, 0xbb, 0xbf, 0x68];
  t.same(await g.call('decoder', undefined, undefined, bom), ['ok', ['utf-8', false, false, 'h']], 'the BOM is skipped');
  t.same(await g.call('decoder', ' UTF8 ', { ignoreBOM: true }, bom), ['ok', ['utf-8', false, true, '\ufeffh']], 'ignoreBOM keeps it; labels are trimmed, any case');
  t.same(await g.call('decoder', 'unicode-1-1-utf-8', { fatal: 1 }, [0x68]), ['ok', ['utf-8', true, false, 'h']]);
  t.same(await g.call('decoder', 'utf-8', null, [0x68]), ['ok', ['utf-8', false, false, 'h']], 'null options');
  t.same(await g.call('decoder', 'latin1', undefined, []), ['throws', 'RangeError', 'The "latin1" encoding is not supported (only utf-8)']);
  t.same(await g.call('decodeInput'), ['', '\u0000hi\u0000', 'hi', 'hi', ['throws', 'TypeError', 'The "input" argument must be an ArrayBuffer or ArrayBufferView']]);
});

t.test('TextEncoder: encode and encodeInto', async (t) => {
  const g = await loadGuest(t, ENTRY);
  t.same(await g.call('encoder'), ['utf-8', [], [0xc3, 0xa9]]);
  for (const [s, size] of [
    ['hello', 10],
    ['hello', 3],
    ['héllo', 3],
    ['€€', 6],
    ['𝄞', 8],
  ] as const) {
    const dest = new Uint8Array(size);
    const r = new TextEncoder().encodeInto(s, dest);
    t.same(await g.call('encodeInto', s, size), [r.read, r.written, Array.from(dest)], `${s} into ${size} bytes`);
  }
});

t.test('encodeInto a buffer that ends inside a character: the bytes that fit are written (the WHATWG encoder stops before it)', async (t) => {
  // Pinned as it is: a known difference from Node's encoder, kept until it is changed on purpose.
  const g = await loadGuest(t, ENTRY);
  t.same(await g.call('encodeInto', 'héllo', 2), [2, 2, [0x68, 0xc3]]);
  t.same(await g.call('encodeInto', '€€', 4), [2, 4, [0xe2, 0x82, 0xac, 0xe2]]);
  const dest = new Uint8Array(2);
  t.same(new TextEncoder().encodeInto('héllo', dest), { read: 1, written: 1 }, "Node's encoder");
});

t.test('btoa and atob as Node has them', async (t) => {
  const g = await loadGuest(t, ENTRY);
  for (const s of ['', 'f', 'fo', 'foo', 'foob', 'hello world', '\u00ff\u0000\u0080', 'é']) t.same(await g.call('b64', s), ['ok', btoa(s)], `btoa ${JSON.stringify(s)}`);
  t.same(await g.call('b64', '€'), ['throws', 'InvalidCharacterError', 'btoa: the string contains characters outside of the Latin1 range']);
  for (const s of ['', 'Zg==', 'Zg', 'Zm9v', ' Zm 9v\n\t', 'aGVsbG8gd29ybGQ=', '/w==']) t.same(await g.call('unb64', s), ['ok', atob(s)], `atob ${JSON.stringify(s)}`);
  for (const s of ['Z', 'Zg=', 'Zm9v!', 'Zg===', '=Zg='])
    t.same(await g.call('unb64', s), ['throws', 'InvalidCharacterError', 'atob: the string to be decoded is not correctly encoded'], `atob ${JSON.stringify(s)} is refused`);
});
