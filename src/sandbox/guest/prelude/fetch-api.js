// The tenant's Headers, Request and Response (WHATWG Fetch Standard, the parts a Workers-style `fetch(request, env, ctx)` handler uses), in plain JavaScript; the bootstrap reads a Response through `responseParts`, never through methods a tenant could replace.
// @ts-check

import { utf8Decode, utf8Encode } from './encoding.js';
import { isStream, streamIterator, streamOf, streamUsed } from './streams.js';
import { URL } from './url.js';
import { URLSearchParams } from './url-search-params.js';

// Captured now, before any tenant code: the bootstrap's reading of a Response relies on none of
// what a tenant may replace later (WeakMap.prototype.get included).
const NativeWeakMap = WeakMap;
const wmGet = Function.prototype.call.bind(WeakMap.prototype.get);
const wmSet = Function.prototype.call.bind(WeakMap.prototype.set);
const U8 = Uint8Array;
const isView = ArrayBuffer.isView;
const TypeErr = TypeError;
const RangeErr = RangeError;
const freezeObj = Object.freeze;
const jsonStringify = JSON.stringify;
const jsonParse = JSON.parse;

/** RFC 9110 §5.6.2 token: the characters of a field name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 §5.5: a field value has no CR, LF or NUL. */
const BAD_VALUE = /[\r\n\0]/;

/** Each Headers' list: lower-cased name → values in order. */
const HEADER_LISTS = new NativeWeakMap();

/**
 * @param {unknown} h
 * @returns {Map<string, string[]>}
 */
function listOf(h) {
  const l = wmGet(HEADER_LISTS, h);
  if (l === undefined) throw new TypeErr('Illegal invocation: not a Headers');
  return l;
}

/**
 * @param {unknown} name
 * @returns {string}
 */
function checkName(name) {
  const n = `${name}`;
  if (!TOKEN.test(n)) throw new TypeErr(`Headers: ${jsonStringify(n)} is not a valid header name`);
  return n.toLowerCase();
}

/**
 * @param {unknown} value
 * @returns {string}
 */
function checkValue(value) {
  const v = `${value}`.replace(/^[\t ]+|[\t ]+$/g, '');
  if (BAD_VALUE.test(v)) throw new TypeErr('Headers: a header value may not contain CR, LF or NUL');
  return v;
}

export class Headers {
  /** @param {unknown} [init] a Headers, pairs, or a record of names to values */
  constructor(init) {
    wmSet(HEADER_LISTS, this, new Map());
    if (init === undefined || init === null) return;
    if (wmGet(HEADER_LISTS, init) !== undefined) {
      for (const [n, vs] of listOf(init)) for (const v of vs) this.append(n, v);
    } else if (typeof init === 'object' && typeof (/** @type {any} */ (init)[Symbol.iterator]) === 'function') {
      for (const pair of /** @type {Iterable<unknown>} */ (init)) {
        const p = [.../** @type {Iterable<unknown>} */ (pair)];
        if (p.length !== 2) throw new TypeErr('Headers: each pair must have a name and a value');
        this.append(p[0], p[1]);
      }
    } else if (typeof init === 'object') {
      for (const k of Object.keys(init)) this.append(k, /** @type {Record<string, unknown>} */ (init)[k]);
    } else throw new TypeErr('Headers: init must be a Headers, pairs or a record');
  }
  /** @param {unknown} name @param {unknown} value */
  append(name, value) {
    const n = checkName(name);
    const v = checkValue(value);
    const l = listOf(this);
    const vs = l.get(n);
    if (vs === undefined) l.set(n, [v]);
    else vs.push(v);
  }
  /** @param {unknown} name @param {unknown} value */
  set(name, value) {
    listOf(this).set(checkName(name), [checkValue(value)]);
  }
  /** @param {unknown} name @returns {string | null} */
  get(name) {
    const vs = listOf(this).get(checkName(name));
    return vs === undefined ? null : vs.join(', ');
  }
  /** @returns {string[]} */
  getSetCookie() {
    return [...(listOf(this).get('set-cookie') ?? [])];
  }
  /** @param {unknown} name */
  has(name) {
    return listOf(this).has(checkName(name));
  }
  /** @param {unknown} name */
  delete(name) {
    listOf(this).delete(checkName(name));
  }
  /** @returns {IterableIterator<[string, string]>} sorted by name; set-cookie once per value, others joined */
  *entries() {
    const l = listOf(this);
    for (const n of [...l.keys()].sort()) {
      const vs = /** @type {string[]} */ (l.get(n));
      if (n === 'set-cookie') for (const v of vs) yield [n, v];
      else yield [n, vs.join(', ')];
    }
  }
  *keys() {
    for (const [n] of this.entries()) yield n;
  }
  *values() {
    for (const [, v] of this.entries()) yield v;
  }
  /** @param {(value: string, name: string, headers: Headers) => void} fn @param {unknown} [thisArg] */
  forEach(fn, thisArg) {
    for (const [n, v] of this.entries()) fn.call(thisArg, v, n, this);
  }
  [Symbol.iterator]() {
    return this.entries();
  }
}

/**
 * A body as the Fetch Standard extracts it: its bytes (or text, or a ReadableStream made by the
 * prelude), and the content-type it implies.
 * @param {unknown} body
 * @returns {{ bytes: Uint8Array | string | object | null, type: string | null }}
 */
function extract(body) {
  if (body === undefined || body === null) return { bytes: null, type: null };
  if (isStream(body)) {
    if (streamUsed(body)) throw new TypeErr('this ReadableStream is locked or was read from: it cannot be a body');
    return { bytes: /** @type {object} */ (body), type: null };
  }
  if (typeof body === 'string') return { bytes: body, type: 'text/plain;charset=UTF-8' };
  if (body instanceof ArrayBuffer) return { bytes: new U8(body.slice(0)), type: null };
  if (isView(body)) {
    const v = /** @type {ArrayBufferView} */ (body);
    return { bytes: new U8(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)), type: null };
  }
  if (body instanceof URLSearchParams) return { bytes: body.toString(), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  throw new TypeErr('this body type is not supported by isohttpd (use a string, an ArrayBuffer, a typed array or URLSearchParams; a ReadableStream; no Blob or FormData yet)');
}

/** Each body's state: its source (bytes, or a function that reads them once) and whether it was used. */
const BODIES = new NativeWeakMap();

/**
 * The whole body: its bytes or text, a stream read to its end.
 * @param {object} self
 * @returns {Promise<Uint8Array | string>}
 */
async function consume(self) {
  const b = wmGet(BODIES, self);
  if (b === undefined) throw new TypeErr('Illegal invocation');
  if (b.used) throw new TypeErr('Body has already been consumed');
  b.used = true;
  const v = typeof b.source === 'function' ? b.source() : b.source;
  if (v === null) return '';
  if (typeof v === 'string' || v instanceof U8) return v;
  const it = streamIterator(v);
  if (it === null) throw new TypeErr('Body has already been consumed');
  /** @type {Uint8Array[]} */
  const parts = [];
  let total = 0;
  for (;;) {
    const r = /** @type {{ done: boolean, value: unknown }} */ (await it.next());
    if (r.done) break;
    const c = typeof r.value === 'string' ? utf8Encode(r.value) : r.value instanceof U8 ? r.value : null;
    if (c === null) throw new TypeErr('a body stream chunk must be a Uint8Array or a string');
    parts.push(c);
    total += c.byteLength;
  }
  const out = new U8(total);
  let at = 0;
  for (const c of parts) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * The whole body of a Request given whole (bytes or text, or the incoming body read at once), marked used; null for none.
 * @param {object} self
 * @returns {Uint8Array | string | object | null}
 */
function consumeWhole(self) {
  const b = wmGet(BODIES, self);
  if (b === undefined) throw new TypeErr('Illegal invocation');
  if (b.used) throw new TypeErr('Body has already been consumed');
  b.used = true;
  return typeof b.source === 'function' ? b.source() : b.source;
}

/**
 * The body as a ReadableStream (made on first use from bytes given whole, or from the incoming
 * request's body read once), or null for no body.
 * @param {object} self
 * @returns {unknown}
 */
function bodyStream(self) {
  const b = wmGet(BODIES, self);
  if (b === undefined) throw new TypeErr('Illegal invocation');
  if (b.source === null) return null;
  if (typeof b.source === 'function') {
    const read = b.source;
    b.source = streamOf(read());
  } else if (typeof b.source === 'string' || b.source instanceof U8) b.source = streamOf(b.source);
  return b.source;
}

/** @param {Uint8Array | string} v */
const asText = (v) => (typeof v === 'string' ? v : utf8Decode(v, false));
/** @param {Uint8Array | string} v */
const asBytes = (v) => (typeof v === 'string' ? utf8Encode(v) : v);

/** The body methods Request and Response share. */
class Body {
  get bodyUsed() {
    return wmGet(BODIES, this)?.used === true;
  }
  /** @returns {Promise<string>} */
  async text() {
    return asText(await consume(this));
  }
  /** @returns {Promise<unknown>} */
  async json() {
    return jsonParse(asText(await consume(this)));
  }
  /** @returns {Promise<ArrayBuffer>} */
  async arrayBuffer() {
    const b = asBytes(await consume(this));
    return /** @type {ArrayBuffer} */ (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
  /** @returns {Promise<Uint8Array>} */
  async bytes() {
    return new U8(asBytes(await consume(this)));
  }
  /** The body as a ReadableStream, or null. */
  get body() {
    return bodyStream(this);
  }
}

const REQUEST_STATE = new NativeWeakMap();

export class Request extends Body {
  /**
   * @param {unknown} input a URL (string) or a Request
   * @param {{ method?: unknown, headers?: unknown, body?: unknown }} [init]
   */
  constructor(input, init = {}) {
    super();
    const from = wmGet(REQUEST_STATE, input);
    const url = from === undefined ? `${new URL(`${input}`)}` : from.url;
    const method = init.method === undefined ? (from?.method ?? 'GET') : `${init.method}`;
    if (!TOKEN.test(method)) throw new TypeErr(`Request: ${jsonStringify(method)} is not a valid method`);
    const upper = method.toUpperCase();
    const normal = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'].includes(upper) ? upper : method;
    const headers = new Headers(init.headers ?? from?.headers);
    const { bytes, type } = extract(init.body);
    if (bytes !== null && (normal === 'GET' || normal === 'HEAD')) throw new TypeErr('Request with GET/HEAD method cannot have body');
    if (type !== null && !headers.has('content-type')) headers.set('content-type', type);
    wmSet(REQUEST_STATE, this, { url, method: normal, headers });
    wmSet(BODIES, this, { source: bytes, used: false });
  }
  get url() {
    return wmGet(REQUEST_STATE, this).url;
  }
  get method() {
    return wmGet(REQUEST_STATE, this).method;
  }
  get headers() {
    return wmGet(REQUEST_STATE, this).headers;
  }
}

/**
 * The Request of an incoming request, for a `fetch` handler: its body read from `read()` (the
 * request dict's datastream) on first use. Used by the bootstrap only.
 * @param {string} url
 * @param {string} method
 * @param {Record<string, string>} headers
 * @param {() => Uint8Array} read
 * @returns {Request}
 */
export function incomingRequest(url, method, headers, read) {
  const r = new Request(url, { headers });
  const s = wmGet(REQUEST_STATE, r);
  s.method = method;
  wmSet(BODIES, r, { source: read, used: false });
  return r;
}

const RESPONSE_STATE = new NativeWeakMap();

export class Response extends Body {
  /**
   * @param {unknown} [body]
   * @param {{ status?: unknown, statusText?: unknown, headers?: unknown }} [init]
   */
  constructor(body = null, init = {}) {
    super();
    const status = init.status === undefined ? 200 : Number(init.status);
    if (!(status >= 200 && status <= 599 && Math.floor(status) === status)) throw new RangeErr(`Response: status ${init.status} is not in 200–599`);
    const statusText = init.statusText === undefined ? '' : `${init.statusText}`;
    if (/[\r\n]/.test(statusText)) throw new TypeErr('Response: statusText may not contain CR or LF');
    const headers = new Headers(init.headers);
    const { bytes, type } = extract(body);
    if (bytes !== null && (status === 204 || status === 205 || status === 304)) throw new TypeErr(`Response with null body status ${status} cannot have a body`);
    if (type !== null && !headers.has('content-type')) headers.set('content-type', type);
    wmSet(RESPONSE_STATE, this, { status, statusText, headers });
    wmSet(BODIES, this, { source: bytes, used: false });
  }
  /** @param {unknown} data @param {{ status?: unknown, statusText?: unknown, headers?: unknown }} [init] */
  static json(data, init = {}) {
    const text = jsonStringify(data);
    if (text === undefined) throw new TypeErr('Response.json: the data is not JSON-serializable');
    const headers = new Headers(init.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return new Response(text, { ...init, headers });
  }
  /** @param {unknown} url @param {number} [status] */
  static redirect(url, status = 302) {
    if (![301, 302, 303, 307, 308].includes(status)) throw new RangeErr(`Response.redirect: ${status} is not a redirect status`);
    return new Response(null, { status, headers: { location: `${new URL(`${url}`)}` } });
  }
  get status() {
    return wmGet(RESPONSE_STATE, this).status;
  }
  get ok() {
    const s = this.status;
    return s >= 200 && s <= 299;
  }
  get statusText() {
    return wmGet(RESPONSE_STATE, this).statusText;
  }
  get headers() {
    return wmGet(RESPONSE_STATE, this).headers;
  }
  get type() {
    return 'default';
  }
  get redirected() {
    return wmGet(RESPONSE_STATE, this).redirected === true;
  }
  get url() {
    return wmGet(RESPONSE_STATE, this).url ?? '';
  }
}

/**
 * What an outbound fetch sends for `input` and `init` (a Request made of them, as `fetch` does): its
 * URL, method, header pairs and body (bytes, or null). Used by the prelude's fetch only.
 * @param {unknown} input
 * @param {unknown} init
 * @returns {{ url: string, method: string, headers: Array<[string, string]>, body: Uint8Array | null }}
 */
export function outgoingParts(input, init) {
  const r = new Request(input, /** @type {any} */ (init ?? {}));
  const s = wmGet(REQUEST_STATE, r);
  /** @type {Array<[string, string]>} */
  const headers = [];
  const l = wmGet(HEADER_LISTS, s.headers);
  for (const [n, vs] of l) for (const v of vs) headers.push([n, v]);
  const b = wmGet(BODIES, r);
  const from = wmGet(BODIES, input);
  // A body given as the Request input (init without one) is that Request's, read once.
  const noBody = init === undefined || init === null || (typeof init === 'object' && /** @type {{ body?: unknown }} */ (init).body === undefined);
  const src = b.source === null && noBody && from !== undefined && !from.used ? consumeWhole(/** @type {object} */ (input)) : b.source;
  if (src !== null && typeof src !== 'string' && !(src instanceof U8)) throw new TypeErr('fetch: a ReadableStream request body is not supported yet (send a string, an ArrayBuffer or a typed array)');
  const body = src === null || src === '' ? null : asBytes(src);
  return { url: s.url, method: s.method, headers, body: body !== null && body.byteLength === 0 ? null : body };
}

/**
 * The Response of an outbound fetch, made from what the host answered (status as received, no range check).
 * @param {number} status
 * @param {string} statusText
 * @param {string[]} flat header names and values, alternating
 * @param {Uint8Array} body
 * @param {string} url the last hop's
 * @param {boolean} redirected
 * @returns {Response}
 */
export function fetchedResponse(status, statusText, flat, body, url, redirected) {
  const r = new Response(null);
  const headers = new Headers();
  for (let i = 0; i + 1 < flat.length; i += 2) headers.append(flat[i], flat[i + 1]);
  wmSet(RESPONSE_STATE, r, { status, statusText, headers, url, redirected });
  wmSet(BODIES, r, { source: body, used: false });
  return r;
}

/**
 * What the bootstrap sends for a Response the handler returned: its status, reason, header pairs and
 * body (whole, or `stream`: a trusted iterator over a ReadableStream body, see streams.js), read from
 * the prelude's own state (a tenant's subclass or patched prototype changes none of it); null for
 * anything that is not a Response made here, or one whose body was used.
 * @param {unknown} r
 * @returns {{ status: number, statusText: string, headers: Array<[string, string]>, body: Uint8Array | string, stream: { next(): Promise<unknown>, return(): Promise<unknown> } | null } | null}
 */
export function responseParts(r) {
  const s = wmGet(RESPONSE_STATE, r);
  const b = wmGet(BODIES, r);
  if (s === undefined || b === undefined || b.used) return null;
  const whole = b.source === null || typeof b.source === 'string' || b.source instanceof U8;
  const stream = whole ? null : streamIterator(b.source);
  if (!whole && stream === null) return null;
  b.used = true;
  /** @type {Array<[string, string]>} */
  const headers = [];
  const l = wmGet(HEADER_LISTS, s.headers);
  for (const [n, vs] of l) for (const v of vs) headers.push([n, v]);
  return freezeObj({ status: s.status, statusText: s.statusText, headers, body: whole && b.source !== null ? b.source : '', stream });
}
