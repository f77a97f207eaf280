// The trusted module evaluated first in every isolate: console (to a bounded buffer), TextEncoder/TextDecoder, atob/btoa — plain JavaScript, no host objects.

/** Most console lines kept in the isolate between two drains, and longest line, characters. */
export const MAX_PENDING_LINES = 1000;
export const MAX_LINE_CHARS = 4096;

/**
 * Source of the prelude module. Its side effects define the globals tenant code may use; it
 * exports `drainLogs()` → `[[level, text], ...]` (the console lines since the last drain), which
 * only the bootstrap module imports. Every global here is ordinary JavaScript inside the isolate.
 */
export function preludeSource(): string {
  return `
const MAX_LINES = ${MAX_PENDING_LINES};
const MAX_CHARS = ${MAX_LINE_CHARS};
let pending = [];
let dropped = 0;

function show(v) {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return String(v.stack || (v.name + ': ' + v.message));
  if (typeof v === 'object' && v !== null) {
    try { const s = JSON.stringify(v); if (s !== undefined) return s; } catch (_) { /* fall through */ }
  }
  try { return String(v); } catch (_) { return '[unprintable]'; }
}

function logger(level) {
  return function (...args) {
    let text = '';
    for (let i = 0; i < args.length && text.length <= MAX_CHARS; i++) text += (i ? ' ' : '') + show(args[i]);
    if (text.length > MAX_CHARS) text = text.slice(0, MAX_CHARS - 3) + '...';
    if (pending.length >= MAX_LINES) { pending.shift(); dropped++; }
    pending.push([level, text]);
  };
}

export function drainLogs() {
  const out = pending;
  if (dropped > 0) out.unshift(['warn', '[isohttpd] ' + dropped + ' console lines dropped (more than ' + MAX_LINES + ' in one request)']);
  pending = [];
  dropped = 0;
  return out;
}

const define = (name, value) => Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });

define('console', Object.freeze({ log: logger('log'), info: logger('info'), warn: logger('warn'), error: logger('error'), debug: logger('debug') }));

function utf8Encode(str) {
  const s = String(str);
  const out = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
      else c = 0xfffd;
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

export function utf8Decode(b, fatal) {
  let out = '';
  let chunk = [];
  const bad = () => { if (fatal) throw new TypeError('The encoded data was not valid for encoding utf-8'); return 0xfffd; };
  for (let i = 0; i < b.length;) {
    const c = b[i];
    let cp = -1;
    let n = 1;
    if (c < 0x80) cp = c;
    else if (c >= 0xc2 && c <= 0xdf && i + 1 < b.length && (b[i + 1] & 0xc0) === 0x80) { cp = ((c & 0x1f) << 6) | (b[i + 1] & 0x3f); n = 2; }
    else if (c >= 0xe0 && c <= 0xef && i + 2 < b.length && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80) {
      const v = ((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
      if (v >= 0x800 && (v < 0xd800 || v > 0xdfff)) { cp = v; n = 3; }
    } else if (c >= 0xf0 && c <= 0xf4 && i + 3 < b.length && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80 && (b[i + 3] & 0xc0) === 0x80) {
      const v = ((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
      if (v >= 0x10000 && v <= 0x10ffff) { cp = v; n = 4; }
    }
    if (cp < 0) cp = bad();
    if (cp > 0xffff) { cp -= 0x10000; chunk.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff)); }
    else chunk.push(cp);
    if (chunk.length >= 4096) { out += String.fromCharCode.apply(null, chunk); chunk = []; }
    i += n;
  }
  return out + String.fromCharCode.apply(null, chunk);
}

function bytesOf(input) {
  if (input === undefined) return new Uint8Array(0);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError('The "input" argument must be an ArrayBuffer or ArrayBufferView');
}

class TextEncoder {
  get encoding() { return 'utf-8'; }
  encode(input = '') { return utf8Encode(input); }
  encodeInto(input, dest) {
    const bytes = utf8Encode(input);
    const n = Math.min(bytes.length, dest.length);
    dest.set(bytes.subarray(0, n));
    return { read: n === bytes.length ? String(input).length : utf8Decode(bytes.subarray(0, n), false).length, written: n };
  }
}

class TextDecoder {
  #fatal; #ignoreBOM;
  constructor(label = 'utf-8', options = {}) {
    const l = String(label).trim().toLowerCase();
    if (l !== 'utf-8' && l !== 'utf8' && l !== 'unicode-1-1-utf-8') throw new RangeError('The "' + label + '" encoding is not supported (only utf-8)');
    this.#fatal = Boolean(options && options.fatal);
    this.#ignoreBOM = Boolean(options && options.ignoreBOM);
  }
  get encoding() { return 'utf-8'; }
  get fatal() { return this.#fatal; }
  get ignoreBOM() { return this.#ignoreBOM; }
  decode(input) {
    let b = bytesOf(input);
    if (!this.#ignoreBOM && b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
    return utf8Decode(b, this.#fatal);
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function invalid(msg) { const e = new Error(msg); e.name = 'InvalidCharacterError'; return e; }

function btoa(data) {
  const s = String(data);
  let out = '';
  for (let i = 0; i < s.length; i += 3) {
    const a = s.charCodeAt(i), b = s.charCodeAt(i + 1), c = s.charCodeAt(i + 2);
    if (a > 255 || b > 255 || c > 255) throw invalid('btoa: the string contains characters outside of the Latin1 range');
    const n = (a << 16) | ((b || 0) << 8) | (c || 0);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < s.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < s.length ? B64[n & 63] : '=');
  }
  return out;
}

function atob(data) {
  let s = String(data).replace(/[\\t\\n\\f\\r ]/g, '');
  if (s.length % 4 === 0) s = s.replace(/==?$/, '');
  if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) throw invalid('atob: the string to be decoded is not correctly encoded');
  let out = '';
  let bits = 0, acc = 0;
  for (let i = 0; i < s.length; i++) {
    acc = (acc << 6) | B64.indexOf(s[i]);
    bits += 6;
    if (bits >= 8) { bits -= 8; out += String.fromCharCode((acc >> bits) & 255); }
  }
  return out;
}

define('TextEncoder', TextEncoder);
define('TextDecoder', TextDecoder);
define('btoa', btoa);
define('atob', atob);
`;
}
