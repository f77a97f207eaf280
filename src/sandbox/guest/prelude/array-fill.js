// Array.prototype.fill in chunks of the native fill past 65,536 elements, so that a huge fill stays within the isolate's memory limit; the prelude installs it.
// @ts-check

// On V8 13.6 the native fill of a dictionary-mode array (new Array(1e9).fill(0)) is one C++ loop that
// never checks for termination and allocates only the doubling element dictionary, in young
// large-object space, which the old-generation limit does not cover: isolated-vm's memoryLimit was
// reached only at the dictionary's size cap (~1.2 GB, 14 s). Between chunks JavaScript runs, a GC
// promotes the table and the limit holds again (about 0.3 s and 90 MB of worker RSS). Same
// semantics as the native one (start/end as ToIntegerOrInfinity, generic receivers untouched);
// 'fill', length 1, not a constructor; the tenant may replace it, which affects only itself.

/** Most elements one native fill call writes, elements. */
export const FILL_CHUNK = 65536;

// The intrinsics used, captured when the prelude is evaluated (before any tenant code runs).
const nativeFill = Array.prototype.fill;
const callFill = /** @type {(o: unknown[], value: unknown, start: number, end: number) => unknown[]} */ (Function.prototype.call.bind(nativeFill));
const applyFill = /** @type {(o: unknown, args: IArguments) => unknown} */ (Function.prototype.apply.bind(nativeFill));
const isArray = Array.isArray;
const trunc = Math.trunc,
  min = Math.min,
  max = Math.max;
/**
 * ToIntegerOrInfinity without a global lookup.
 * @param {unknown} v
 * @returns {number}
 */
const toInt = (v) => {
  const n = +(/** @type {number} */ (v));
  // biome-ignore lint/suspicious/noSelfCompare: `n !== n` is the NaN test that needs no global (the tenant may replace Number.isNaN).
  return n !== n ? 0 : trunc(n);
};

/**
 * The chunked fill: a method (so named 'fill', length 1, not a constructor), taken out of its object literal.
 * @type {(this: unknown, value: unknown, start?: unknown, end?: unknown) => unknown}
 */
export const fill = {
  /**
   * @this {unknown}
   * @param {unknown} value
   */
  fill(value) {
    // Anything but an array (null, primitives, array-likes) keeps the native behaviour, errors included.
    if (!isArray(this)) return applyFill(this, arguments);
    // O, as the specification names the receiver.
    // biome-ignore lint/complexity/noUselessThisAlias: see above.
    const O = this;
    const len = O.length;
    const rs = arguments.length > 1 ? toInt(arguments[1]) : 0;
    let k = rs < 0 ? max(len + rs, 0) : min(rs, len);
    const re = arguments.length > 2 && arguments[2] !== undefined ? toInt(arguments[2]) : len;
    const end = re < 0 ? max(len + re, 0) : min(re, len);
    if (end - k <= FILL_CHUNK) return callFill(O, value, k, end);
    for (; k < end; k += FILL_CHUNK) callFill(O, value, k, min(k + FILL_CHUNK, end));
    return O;
  },
}.fill;
