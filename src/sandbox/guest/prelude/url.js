// The tenant's URLSearchParams (WHATWG URL Standard, in plain JavaScript) and URL, a facade over whatwg-url's parser, which the host hands over as text on first use.
// @ts-check

import { TextDecoder, TextEncoder, utf8Decode, utf8Encode } from './encoding.js';

// WHATWG URL Standard §6 (application/x-www-form-urlencoded), in plain JavaScript.

/**
 * @param {string} s
 * @returns {string}
 */
function formDecode(s) {
  /** @type {number[]} */
  const bytes = [];
  const t = s.replace(/\+/g, ' ');
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x25 && /^[0-9A-Fa-f]{2}$/.test(t.slice(i + 1, i + 3))) {
      bytes.push(parseInt(t.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else {
      const e = utf8Encode(t[i] + (c >= 0xd800 && c <= 0xdbff && i + 1 < t.length ? t[++i] : ''));
      for (let k = 0; k < e.length; k++) bytes.push(e[k]);
    }
  }
  return utf8Decode(new Uint8Array(bytes), false);
}

/**
 * @param {string} s
 * @returns {string}
 */
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

/** @typedef {[name: string, value: string]} QueryPair */

/**
 * @param {string} q a query without its `?`
 * @returns {QueryPair[]}
 */
function parseQuery(q) {
  /** @type {QueryPair[]} */
  const list = [];
  for (const part of q.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    list.push(eq === -1 ? [formDecode(part), ''] : [formDecode(part.slice(0, eq)), formDecode(part.slice(eq + 1))]);
  }
  return list;
}

// Module-private access to a URLSearchParams linked to a URL (URL Standard "update steps").
/** @type {(p: URLSearchParams, fn: (query: string) => void) => void} */
let linkParams = () => undefined;
/** @type {(p: URLSearchParams, query: string) => void} */
let resetParams = () => undefined;

/** WHATWG URL Standard's URLSearchParams. */
export class URLSearchParams {
  /** @type {QueryPair[]} */
  #list = [];
  /** @type {((query: string) => void) | null} */
  #onUpdate = null;
  static {
    linkParams = (p, fn) => {
      p.#onUpdate = fn;
    };
    resetParams = (p, query) => {
      p.#list = parseQuery(query);
    };
  }
  #update() {
    if (this.#onUpdate !== null) this.#onUpdate(this.toString());
  }
  /** @param {unknown} [init] a query string, an iterable of [name, value] pairs or a record */
  constructor(init = '') {
    if (typeof init === 'object' && init !== null) {
      if (typeof (/** @type {Partial<Iterable<unknown>>} */ (init)[Symbol.iterator]) === 'function') {
        for (const pair of /** @type {Iterable<Iterable<unknown>>} */ (init)) {
          const p = Array.from(pair);
          if (p.length !== 2) throw new TypeError('Each query pair must be an iterable [name, value] tuple');
          this.#list.push([String(p[0]), String(p[1])]);
        }
      } else {
        const record = /** @type {Record<string, unknown>} */ (init);
        for (const k of Object.keys(record)) this.#list.push([k, String(record[k])]);
      }
      return;
    }
    let q = String(init);
    if (q.startsWith('?')) q = q.slice(1);
    this.#list = parseQuery(q);
  }
  /** @returns {number} */
  get size() {
    return this.#list.length;
  }
  /** @param {unknown} name @param {unknown} value */
  append(name, value) {
    this.#list.push([String(name), String(value)]);
    this.#update();
  }
  /** @param {unknown} name @param {unknown} [value] */
  delete(name, value) {
    const n = String(name);
    this.#list = this.#list.filter(([k, v]) => k !== n || (value !== undefined && v !== String(value)));
    this.#update();
  }
  /** @param {unknown} name @returns {string | null} */
  get(name) {
    const n = String(name);
    const e = this.#list.find(([k]) => k === n);
    return e === undefined ? null : e[1];
  }
  /** @param {unknown} name @returns {string[]} */
  getAll(name) {
    const n = String(name);
    return this.#list.filter(([k]) => k === n).map(([, v]) => v);
  }
  /** @param {unknown} name @param {unknown} [value] @returns {boolean} */
  has(name, value) {
    const n = String(name);
    return this.#list.some(([k, v]) => k === n && (value === undefined || v === String(value)));
  }
  /** @param {unknown} name @param {unknown} value */
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
  sort() {
    this.#list = this.#list
      .map((e, i) => /** @type {[QueryPair, number]} */ ([e, i]))
      .sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1]))
      .map(([e]) => e);
    this.#update();
  }
  /** @param {(value: string, name: string, params: URLSearchParams) => void} fn @param {unknown} [thisArg] */
  forEach(fn, thisArg) {
    for (const [k, v] of this.#list) fn.call(thisArg, v, k, this);
  }
  /** @returns {Generator<QueryPair>} */
  *entries() {
    for (const [k, v] of this.#list) yield [k, v];
  }
  /** @returns {Generator<string>} */
  *keys() {
    for (const [k] of this.#list) yield k;
  }
  /** @returns {Generator<string>} */
  *values() {
    for (const [, v] of this.#list) yield v;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  /** @returns {string} */
  toString() {
    return this.#list.map(([k, v]) => formEncode(k) + '=' + formEncode(v)).join('&');
  }
}

// WHATWG URL: a facade over whatwg-url's URL class, which is loaded on first use: the host's loader
// returns the bundle's text, compiled here, in the tenant's realm and under its limits.
/** @type {HostReference<[], string> | null} */
let urlLoader = null;

/**
 * Called once by the host (src/sandbox/url-loader.ts) right after the prelude is evaluated; the
 * loader stays in this module's scope, out of tenant code's reach. Later calls change nothing.
 * @param {HostReference<[], string>} ref
 */
export function setUrlLoader(ref) {
  if (urlLoader === null) urlLoader = ref;
}
const FunctionCtor = Function;
/** @type {WhatwgUrlClass | null} */
let Parser = null;
/** @returns {WhatwgUrlClass} */
function parser() {
  if (Parser === null) {
    if (urlLoader === null) throw new TypeError('URL is not available here');
    const text = urlLoader.applySync(undefined, []);
    Parser = new FunctionCtor('TextEncoder', 'TextDecoder', text)(TextEncoder, TextDecoder);
  }
  return /** @type {WhatwgUrlClass} */ (Parser);
}

/** WHATWG URL Standard's URL, its parsing done by whatwg-url; `searchParams` is linked to it. */
export class URL {
  /** @type {WhatwgUrl} */
  #u;
  /** @type {URLSearchParams} */
  #params;
  /**
   * @param {unknown} url
   * @param {unknown} [base]
   */
  constructor(url, base) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'URL': 1 argument required, but only 0 present.");
    const P = parser();
    this.#u = base === undefined ? new P(url) : new P(url, base);
    this.#params = new URLSearchParams(this.#u.search);
    linkParams(this.#params, (query) => {
      this.#u.search = query;
    });
  }
  /**
   * @param {unknown} url
   * @param {unknown} [base]
   * @returns {boolean}
   */
  static canParse(url, base) {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'canParse' on 'URL': 1 argument required, but only 0 present.");
    const P = parser();
    return base === undefined ? P.canParse(url) : P.canParse(url, base);
  }
  /**
   * @param {unknown} _url
   * @param {unknown} [_base]
   * @returns {URL | null}
   */
  static parse(_url, _base) {
    // Spread of `arguments`, not of (url, base): the argument count is what the checks above look at.
    const args = /** @type {[unknown, unknown?]} */ (/** @type {unknown} */ (arguments));
    return URL.canParse(...args) ? new URL(...args) : null;
  }
  #reset() {
    resetParams(this.#params, this.#u.search.slice(1));
  }
  get href() {
    return this.#u.href;
  }
  set href(v) {
    this.#u.href = v;
    this.#reset();
  }
  get origin() {
    return this.#u.origin;
  }
  get protocol() {
    return this.#u.protocol;
  }
  set protocol(v) {
    this.#u.protocol = v;
  }
  get username() {
    return this.#u.username;
  }
  set username(v) {
    this.#u.username = v;
  }
  get password() {
    return this.#u.password;
  }
  set password(v) {
    this.#u.password = v;
  }
  get host() {
    return this.#u.host;
  }
  set host(v) {
    this.#u.host = v;
  }
  get hostname() {
    return this.#u.hostname;
  }
  set hostname(v) {
    this.#u.hostname = v;
  }
  get port() {
    return this.#u.port;
  }
  set port(v) {
    this.#u.port = v;
  }
  get pathname() {
    return this.#u.pathname;
  }
  set pathname(v) {
    this.#u.pathname = v;
  }
  get search() {
    return this.#u.search;
  }
  set search(v) {
    this.#u.search = v;
    this.#reset();
  }
  get searchParams() {
    return this.#params;
  }
  get hash() {
    return this.#u.hash;
  }
  set hash(v) {
    this.#u.hash = v;
  }
  toString() {
    return this.#u.href;
  }
  toJSON() {
    return this.#u.href;
  }
  get [Symbol.toStringTag]() {
    return 'URL';
  }
}
