// The trusted module evaluated first in every isolate: console (to a bounded buffer), TextEncoder/TextDecoder, atob/btoa, URLSearchParams and a lazily loaded URL — plain JavaScript, no host objects.

/** Most console lines kept in the isolate between two drains, and longest line, characters. */
export const MAX_PENDING_LINES = 1000;
export const MAX_LINE_CHARS = 4096;

/**
 * Source of the prelude module. Its side effects define the globals tenant code may use; it
 * exports `drainLogs()` → `[[level, text], ...]` (the console lines since the last drain), which
 * only the bootstrap module imports, and `setUrlLoader(ref)`, which only the host calls (once, see
 * url-loader.ts). Every global here is ordinary JavaScript inside the isolate.
 *
 * `URL` is a small facade defined here; the WHATWG parser behind it (whatwg-url, bundled at build
 * time, ~283 KiB) is fetched as text from the host and compiled inside the isolate only on the first
 * `new URL()`, `URL.canParse()` or `URL.parse()`, so an isolate that never parses a URL never pays
 * for it. That first use runs inside the tenant's request (or module evaluation), under its time
 * and memory limits. `url.searchParams` is the prelude's own `URLSearchParams`, linked to its URL.
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

// Array.prototype.fill over more than FILL_CHUNK elements fills in chunks of the native fill. On V8
// 13.6 the native fill of a dictionary-mode array (new Array(1e9).fill(0)) is one C++ loop that
// never checks for termination and allocates only the doubling element dictionary, in young
// large-object space, which the old-generation limit does not cover: isolated-vm's memoryLimit was
// reached only at the dictionary's size cap (~1.2 GB, 14 s). Between chunks JavaScript runs, a GC
// promotes the table and the limit holds again (about 0.3 s and 90 MB of worker RSS). Same
// semantics as the native one (start/end as ToIntegerOrInfinity, generic receivers untouched);
// 'fill', length 1, not a constructor; the tenant may replace it, which affects only itself.
{
  const FILL_CHUNK = 65536;
  const nativeFill = Array.prototype.fill;
  const callFill = Function.prototype.call.bind(nativeFill);
  const applyFill = Function.prototype.apply.bind(nativeFill);
  const isArray = Array.isArray;
  const trunc = Math.trunc, min = Math.min, max = Math.max;
  const toInt = (v) => { const n = +v; return n !== n ? 0 : trunc(n); };
  const fill = ({ fill(value) {
    // Anything but an array (null, primitives, array-likes) keeps the native behaviour, errors included.
    if (!isArray(this)) return applyFill(this, arguments);
    const O = this;
    const len = O.length;
    const rs = arguments.length > 1 ? toInt(arguments[1]) : 0;
    let k = rs < 0 ? max(len + rs, 0) : min(rs, len);
    const re = arguments.length > 2 && arguments[2] !== undefined ? toInt(arguments[2]) : len;
    const end = re < 0 ? max(len + re, 0) : min(re, len);
    if (end - k <= FILL_CHUNK) return callFill(O, value, k, end);
    for (; k < end; k += FILL_CHUNK) callFill(O, value, k, min(k + FILL_CHUNK, end));
    return O;
  } }).fill;
  Object.defineProperty(Array.prototype, 'fill', { value: fill, writable: true, enumerable: false, configurable: true });
}

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

// WHATWG URL Standard §6 (application/x-www-form-urlencoded), in plain JavaScript.
function formDecode(s) {
  const bytes = [];
  const t = s.replace(/\\+/g, ' ');
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x25 && /^[0-9A-Fa-f]{2}$/.test(t.slice(i + 1, i + 3))) { bytes.push(parseInt(t.slice(i + 1, i + 3), 16)); i += 2; }
    else if (c < 0x80) bytes.push(c);
    else { const e = utf8Encode(t[i] + ((c >= 0xd800 && c <= 0xdbff && i + 1 < t.length) ? t[++i] : '')); for (let k = 0; k < e.length; k++) bytes.push(e[k]); }
  }
  return utf8Decode(new Uint8Array(bytes), false);
}
function formEncode(s) {
  const b = utf8Encode(s);
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0x20) out += '+';
    else if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2a || c === 0x2d || c === 0x2e || c === 0x5f) out += String.fromCharCode(c);
    else out += '%' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
  }
  return out;
}

function parseQuery(q) {
  const list = [];
  for (const part of q.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    list.push(eq === -1 ? [formDecode(part), ''] : [formDecode(part.slice(0, eq)), formDecode(part.slice(eq + 1))]);
  }
  return list;
}

// Module-private access to a URLSearchParams linked to a URL (URL Standard "update steps").
let linkParams = null;
let resetParams = null;

class URLSearchParams {
  #list = [];
  #onUpdate = null;
  static {
    linkParams = (p, fn) => { p.#onUpdate = fn; };
    resetParams = (p, query) => { p.#list = parseQuery(query); };
  }
  #update() { if (this.#onUpdate !== null) this.#onUpdate(this.toString()); }
  constructor(init = '') {
    if (typeof init === 'object' && init !== null) {
      if (typeof init[Symbol.iterator] === 'function') {
        for (const pair of init) {
          const p = Array.from(pair);
          if (p.length !== 2) throw new TypeError('Each query pair must be an iterable [name, value] tuple');
          this.#list.push([String(p[0]), String(p[1])]);
        }
      } else {
        for (const k of Object.keys(init)) this.#list.push([k, String(init[k])]);
      }
      return;
    }
    let q = String(init);
    if (q.startsWith('?')) q = q.slice(1);
    this.#list = parseQuery(q);
  }
  get size() { return this.#list.length; }
  append(name, value) { this.#list.push([String(name), String(value)]); this.#update(); }
  delete(name, value) { const n = String(name); this.#list = this.#list.filter(([k, v]) => k !== n || (value !== undefined && v !== String(value))); this.#update(); }
  get(name) { const n = String(name); const e = this.#list.find(([k]) => k === n); return e === undefined ? null : e[1]; }
  getAll(name) { const n = String(name); return this.#list.filter(([k]) => k === n).map(([, v]) => v); }
  has(name, value) { const n = String(name); return this.#list.some(([k, v]) => k === n && (value === undefined || v === String(value))); }
  set(name, value) {
    const n = String(name);
    const i = this.#list.findIndex(([k]) => k === n);
    if (i === -1) this.#list.push([n, String(value)]);
    else {
      this.#list[i] = [n, String(value)];
      this.#list = this.#list.filter(([k], j) => k !== n || j === i);
    }
    this.#update();
  }
  sort() { this.#list = this.#list.map((e, i) => [e, i]).sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])).map(([e]) => e); this.#update(); }
  forEach(fn, thisArg) { for (const [k, v] of this.#list) fn.call(thisArg, v, k, this); }
  *entries() { for (const [k, v] of this.#list) yield [k, v]; }
  *keys() { for (const [k] of this.#list) yield k; }
  *values() { for (const [, v] of this.#list) yield v; }
  [Symbol.iterator]() { return this.entries(); }
  toString() { return this.#list.map(([k, v]) => formEncode(k) + '=' + formEncode(v)).join('&'); }
}

// WHATWG URL: a facade over whatwg-url's URL class, which is loaded on first use (see above).
let urlLoader = null;
export function setUrlLoader(ref) {
  if (urlLoader === null) urlLoader = ref;
}
const FunctionCtor = Function;
let Parser = null;
function parser() {
  if (Parser === null) {
    if (urlLoader === null) throw new TypeError('URL is not available here');
    const text = urlLoader.applySync(undefined, []);
    Parser = new FunctionCtor('TextEncoder', 'TextDecoder', text)(TextEncoder, TextDecoder);
  }
  return Parser;
}

class URL {
  #u;
  #params;
  constructor(url, base) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'URL': 1 argument required, but only 0 present.");
    const P = parser();
    this.#u = base === undefined ? new P(url) : new P(url, base);
    this.#params = new URLSearchParams(this.#u.search);
    linkParams(this.#params, (query) => { this.#u.search = query; });
  }
  static canParse(url, base) {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'canParse' on 'URL': 1 argument required, but only 0 present.");
    const P = parser();
    return base === undefined ? P.canParse(url) : P.canParse(url, base);
  }
  static parse(url, base) {
    return URL.canParse(...arguments) ? new URL(...arguments) : null;
  }
  #reset() { resetParams(this.#params, this.#u.search.slice(1)); }
  get href() { return this.#u.href; }
  set href(v) { this.#u.href = v; this.#reset(); }
  get origin() { return this.#u.origin; }
  get protocol() { return this.#u.protocol; }
  set protocol(v) { this.#u.protocol = v; }
  get username() { return this.#u.username; }
  set username(v) { this.#u.username = v; }
  get password() { return this.#u.password; }
  set password(v) { this.#u.password = v; }
  get host() { return this.#u.host; }
  set host(v) { this.#u.host = v; }
  get hostname() { return this.#u.hostname; }
  set hostname(v) { this.#u.hostname = v; }
  get port() { return this.#u.port; }
  set port(v) { this.#u.port = v; }
  get pathname() { return this.#u.pathname; }
  set pathname(v) { this.#u.pathname = v; }
  get search() { return this.#u.search; }
  set search(v) { this.#u.search = v; this.#reset(); }
  get searchParams() { return this.#params; }
  get hash() { return this.#u.hash; }
  set hash(v) { this.#u.hash = v; }
  toString() { return this.#u.href; }
  toJSON() { return this.#u.href; }
  get [Symbol.toStringTag]() { return 'URL'; }
}

define('URL', URL);
define('URLSearchParams', URLSearchParams);
define('TextEncoder', TextEncoder);
define('TextDecoder', TextDecoder);
define('btoa', btoa);
define('atob', atob);
`;
}
