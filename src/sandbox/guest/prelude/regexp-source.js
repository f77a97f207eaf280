// RegExp sources held to the isolate's budget (trusted, installed by the prelude before any tenant code): V8's RegExp compiler works in memory of its own, outside the heap limit, so a huge pattern built at run time made its worker's RSS grow by about 60 bytes per source character in one compile.
// @ts-check

import { MEMORY_BUDGET_BYTES } from 'isohttpd:constants';
import { bare, getter, nd, uncurry } from './intrinsics.js';

/**
 * Longest RegExp source allowed per MiB of the server's memoryMb, characters. Measured on Node 24: a
 * source of 1.49M characters took 15 MiB to parse (at `new RegExp`) and +74 MiB of RSS at its first
 * match (compile); at 8192 per MiB the compile of the longest allowed source stays within about memoryMb.
 */
export const SOURCE_CHARS_PER_MIB = 8192;

/**
 * Installs the limit on `g` (the isolate's global object). `RegExp` becomes a proxy of itself whose
 * construction refuses (RangeError) a RegExp whose source is longer than the limit, before it is
 * ever matched (V8 parses at construction, compiles at the first match); `RegExp.prototype.compile`
 * the same; `String.prototype.match`, `matchAll` and `search`, which build a RegExp from a string
 * argument inside the engine, convert an object argument without the method to a string themselves
 * and check it first. Everything else about `RegExp` is the native one's (`instanceof`,
 * subclassing, `Symbol.species`, statics, `RegExp(re) === re`).
 *
 * @param {typeof globalThis} g
 * @param {number} [budgetBytes] the server's memoryMb, bytes
 */
export function installRegExpLimit(g, budgetBytes = MEMORY_BUDGET_BYTES) {
  const max = Math.floor((budgetBytes / 1048576) * SOURCE_CHARS_PER_MIB);
  const NativeRegExp = g.RegExp;
  const NativeRangeError = g.RangeError;
  const { apply, construct, defineProperty, getOwnPropertyDescriptor } = Reflect;
  const source = getter(NativeRegExp.prototype, 'source');
  const nativeCompile = NativeRegExp.prototype.compile;
  const callCompile = uncurry(nativeCompile);
  const ctorOf = (/** @type {any} */ o) => o.constructor;
  const tooLong = (/** @type {number} */ n) => new NativeRangeError(`RegExp source of ${n} characters is longer than this server allows (${max}: ${SOURCE_CHARS_PER_MIB} per MiB of memoryMb)`);
  /** Whether `x` is a RegExp (has its internal slots). */
  const isRegExp = (/** @type {unknown} */ x) => {
    try {
      source(x);
      return x !== NativeRegExp.prototype;
    } catch {
      return false;
    }
  };
  /** @param {unknown} re a RegExp just made or recompiled */
  const check = (re) => {
    const n = /** @type {string} */ (source(re)).length;
    if (n > max) throw tooLong(n);
  };
  /** @type {any} */
  // The handler without a prototype: a trap it lacks (get, has, …) would otherwise be looked up on
  // Object.prototype, where the tenant could put one and be handed the native RegExp as its target.
  const proxy = new g.Proxy(
    NativeRegExp,
    bare({
      construct(target, args, newTarget) {
        const re = construct(target, args, newTarget === proxy ? target : newTarget);
        check(re);
        return re;
      },
      apply(target, thisArg, args) {
        // RegExp(re) with no flags is `re` itself when its constructor is RegExp (the proxy now).
        const [pattern, flags] = args;
        if (flags === undefined && isRegExp(pattern) && ctorOf(pattern) === proxy) return pattern;
        const re = apply(target, thisArg, args);
        check(re);
        return re;
      },
    }),
  );
  const ctorDesc = getOwnPropertyDescriptor(NativeRegExp.prototype, 'constructor');
  defineProperty(NativeRegExp.prototype, 'constructor', nd({ ...ctorDesc, value: proxy }));
  defineProperty(g, 'RegExp', nd({ ...getOwnPropertyDescriptor(g, 'RegExp'), value: proxy }));

  const compile = {
    /**
     * @this {unknown}
     * @param {unknown} pattern
     * @param {unknown} flags
     */
    compile(pattern, flags) {
      const re = callCompile(this, pattern, flags);
      const n = /** @type {string} */ (source(re)).length;
      if (n > max) {
        callCompile(this, '(?:)', '');
        throw tooLong(n);
      }
      return re;
    },
  }.compile;
  defineProperty(NativeRegExp.prototype, 'compile', nd({ ...getOwnPropertyDescriptor(NativeRegExp.prototype, 'compile'), value: compile }));

  const SP = g.String.prototype;
  const NativeTypeError = g.TypeError;
  const includes = uncurry(SP.includes);
  const symbols = { match: g.Symbol.match, matchAll: g.Symbol.matchAll, search: g.Symbol.search };
  const symbolMatch = g.Symbol.match;
  for (const name of /** @type {const} */ (['match', 'matchAll', 'search'])) {
    const native = uncurry(SP[name]);
    const symbol = symbols[name];
    const wrapped = {
      /**
       * The spec's steps (ECMA-262 §22.1.3.13, .14, .23), with the pattern's string checked before
       * the engine makes a RegExp of it: an object's method is read once and called here, and an
       * object without one is converted to a string here, so no later read or conversion of the
       * tenant's object can hand the engine a different, unchecked, value.
       *
       * @this {unknown}
       * @param {unknown} regexp
       */
      [name](regexp) {
        if (this === undefined || this === null) return native(this, regexp);
        if ((typeof regexp === 'object' && regexp !== null) || typeof regexp === 'function') {
          const r = /** @type {any} */ (regexp);
          if (name === 'matchAll') {
            const m = r[symbolMatch];
            if (m !== undefined ? Boolean(m) : isRegExp(r)) {
              const flags = r.flags;
              if (flags === undefined || flags === null) throw new NativeTypeError('String.prototype.matchAll called with a RegExp whose flags are undefined or null');
              if (!includes(`${flags}`, 'g')) throw new NativeTypeError('String.prototype.matchAll called with a non-global RegExp argument');
            }
          }
          const method = r[symbol];
          if (method !== undefined && method !== null) return apply(method, r, [this]);
          const string = `${this}`;
          regexp = `${r}`;
          if (/** @type {string} */ (regexp).length > max) throw tooLong(/** @type {string} */ (regexp).length);
          return native(string, regexp);
        }
        if (typeof regexp === 'string' && regexp.length > max) throw tooLong(regexp.length);
        return native(this, regexp);
      },
    }[name];
    defineProperty(SP, name, nd({ ...getOwnPropertyDescriptor(SP, name), value: wrapped }));
  }
}
