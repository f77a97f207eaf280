// The intrinsics the bootstrap uses, captured when the prelude is evaluated (before any tenant code runs), as plain functions that take their receiver first, so that nothing trusted looks up a global or a prototype method the tenant can replace.
// @ts-check

/** `fn` as a plain function taking its receiver first: `uncurry(f)(self, ...args)` is `f.call(self, ...args)` with the intrinsic `call`. */
export const uncurry = Function.prototype.bind.bind(Function.prototype.call);
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
/** The accessor `k` of `o`, uncurried. @param {object} o @param {string | symbol} k @returns {(self: any) => any} */
export const getter = (o, k) => uncurry(/** @type {() => unknown} */ (Object.getOwnPropertyDescriptor(o, k)?.get));

/** `Object.prototype.toString`-free brand check: the typed array's [[TypedArrayName]], or undefined for anything else. */
const typedArrayName = getter(typedArrayProto, Symbol.toStringTag);

export const I = Object.freeze({
  __proto__: null,
  U8: Uint8Array,
  Map,
  Promise,
  TypeError,
  parse: JSON.parse,
  stringify: JSON.stringify,
  freeze: Object.freeze,
  keys: Object.keys,
  isArray: Array.isArray,
  isView: ArrayBuffer.isView,
  floor: Math.floor,
  defineProperty: Reflect.defineProperty,
  apply: Reflect.apply,
  lower: uncurry(String.prototype.toLowerCase),
  /** @type {(v: unknown) => v is Uint8Array} */
  isU8: (v) => typedArrayName(v) === 'Uint8Array',
  u8Length: getter(typedArrayProto, 'length'),
  u8Buffer: getter(typedArrayProto, 'buffer'),
  abByteLength: getter(ArrayBuffer.prototype, 'byteLength'),
  abResizable: getter(ArrayBuffer.prototype, 'resizable'),
  u8Offset: getter(typedArrayProto, 'byteOffset'),
  u8Set: uncurry(typedArrayProto.set),
  mapGet: uncurry(Map.prototype.get),
  mapSet: uncurry(Map.prototype.set),
  mapDelete: uncurry(Map.prototype.delete),
  promiseThen: uncurry(Promise.prototype.then),
  asyncIterator: Symbol.asyncIterator,
  iterator: Symbol.iterator,
  stringSlice: uncurry(String.prototype.slice),
  /** `String(v)` without the global: a template literal calls the intrinsic ToString. */
  str: (/** @type {unknown} */ v) => `${v}`,
});

const setPrototypeOf = Reflect.setPrototypeOf;

/**
 * `o` without a prototype: a read or a write of a property it does not have meets nothing a tenant
 * put on Object.prototype or Array.prototype (a getter, a setter). On an array, `a[a.length] = v`
 * then appends an own data property, as cheaply as a push (the arrays of the hot path are made so:
 * `Reflect.defineProperty` per element cost a request about a microsecond).
 * @template {object} T
 * @param {T} o
 * @returns {T}
 */
export function bare(o) {
  setPrototypeOf(o, null);
  return o;
}

/**
 * `d` as a property descriptor without a prototype: `defineProperty` reads a descriptor's fields with
 * [[Get]], which would see `get`, `set` or `value` a tenant put on Object.prototype.
 * @param {PropertyDescriptor} d
 * @returns {PropertyDescriptor}
 */
export function nd(d) {
  return bare(d);
}
