// The tenant's URL (WHATWG URL Standard): a facade over whatwg-url's parser, which the host hands over as text on first use, with its searchParams linked to it.
// @ts-check

import { TextDecoder, TextEncoder } from './encoding.js';
import { linkParams, resetParams, URLSearchParams } from './url-search-params.js';

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
