// The tenant's URLSearchParams (WHATWG URL Standard, application/x-www-form-urlencoded), in plain JavaScript; url.js links one to each URL.
// @ts-check

import { utf8Decode, utf8Encode } from './encoding.js';

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

// Access to the private state of a URLSearchParams linked to a URL (URL Standard "update steps"), for
// url.js only: no tenant code can import a guest module.
/**
 * Links `p` to its URL: `fn` receives the new query after every change made through `p`.
 * @type {(p: URLSearchParams, fn: (query: string) => void) => void}
 */
export let linkParams = () => undefined;
/**
 * Replaces the pairs of `p` with those of `query` (its URL's query changed), without calling back.
 * @type {(p: URLSearchParams, query: string) => void}
 */
export let resetParams = () => undefined;

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
