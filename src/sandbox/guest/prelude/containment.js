// Containment inside the isolate (trusted, installed by the prelude before any tenant code): closes the routes by which plain JavaScript could hold memory outside the isolate's heap limit or run code outside a request's time limit.
// @ts-check

import { MEMORY_BUDGET_BYTES } from 'isohttpd:constants';
import { getter, nd, uncurry } from './intrinsics.js';

/** Why the last allocation over the budget was refused, or '' (taken by the bootstrap after each request). */
let overrun = '';

/**
 * Why the isolate was refused memory over its budget since the last call, or '' (then resets it).
 * The bootstrap answers the request that did it as `memory`, and the host replaces the isolate.
 * @returns {string}
 */
export function takeMemoryOverrun() {
  const why = overrun;
  overrun = '';
  return why;
}

/**
 * Installs the containment on `g` (the isolate's global object), with the server's memoryMb as the
 * budget of what its isolate may hold outside the heap. Everything it uses is captured here,
 * before tenant code runs; what it installs relies on no global or prototype the tenant can replace.
 *
 * Memory: `SharedArrayBuffer` is removed and shared wasm memories are refused (no threads, so no
 * use); resizable ArrayBuffers (`maxByteLength`) are refused; every wasm memory has a maximum of at
 * most the budget (a module's own memories are rewritten so, a `WebAssembly.Memory` is clamped), and
 * the maxima of the memories still reachable add up to at most the budget.
 *
 * Time: `WebAssembly.compile` / `instantiate` compile synchronously inside the call (V8's
 * asynchronous compilation finishes in a task that would run outside any time limit), the
 * callbacks of `FinalizationRegistry` never run (the specification allows it: they would run as
 * V8 tasks, outside any time limit) and `Atomics.waitAsync` is removed.
 *
 * @param {typeof globalThis} g
 * @param {number} [budgetBytes] off-heap budget of the isolate (wasm memories, resizable buffers), bytes
 */
export function installContainment(g, budgetBytes = MEMORY_BUDGET_BYTES) {
  /** @type {any} */
  const G = g;
  const PAGE = 65536;
  const budgetPages = Math.floor(budgetBytes / PAGE);
  const { construct, defineProperty, deleteProperty, getPrototypeOf } = Reflect;
  const NativeAB = g.ArrayBuffer;
  const NativeWeakRef = g.WeakRef;
  const NativeWeakMap = g.WeakMap;
  const NativeMap = g.Map;
  const NativeU8 = g.Uint8Array;
  const NativePromise = g.Promise;
  const deref = uncurry(NativeWeakRef.prototype.deref);
  const wmGet = uncurry(NativeWeakMap.prototype.get);
  const wmSet = uncurry(NativeWeakMap.prototype.set);
  const wmHas = uncurry(NativeWeakMap.prototype.has);
  const wmDelete = uncurry(NativeWeakMap.prototype.delete);
  const mapSet = uncurry(NativeMap.prototype.set);
  const mapDelete = uncurry(NativeMap.prototype.delete);
  const mapForEach = uncurry(NativeMap.prototype.forEach);
  const isView = NativeAB.isView;
  const abByteLength = getter(NativeAB.prototype, 'byteLength');
  const u8Set = uncurry(NativeU8.prototype.set);
  const typedArrayProto = /** @type {object} */ (getPrototypeOf(NativeU8.prototype));
  const viewBuffer = getter(typedArrayProto, 'buffer');
  const viewOffset = getter(typedArrayProto, 'byteOffset');
  const viewLength = getter(typedArrayProto, 'byteLength');
  const dvByteOffset = getter(g.DataView.prototype, 'byteOffset');
  const dvByteLength = getter(g.DataView.prototype, 'byteLength');
  const dvBuffer = getter(g.DataView.prototype, 'buffer');
  const NativeDataView = g.DataView;
  const TypeErr = g.TypeError;
  const RangeErr = g.RangeError;
  const WA = G.WebAssembly;
  const NativeModule = WA.Module;
  const NativeInstance = WA.Instance;
  const NativeMemory = WA.Memory;
  const CompileErr = WA.CompileError;
  const memBuffer = getter(NativeMemory.prototype, 'buffer');
  const instExports = getter(NativeInstance.prototype, 'exports');
  const ownKeys = Reflect.ownKeys;
  const mathMin = Math.min;
  const mathFloor = Math.floor;
  const mathCeil = Math.ceil;
  const toStringTag = Symbol.toStringTag;
  const getOwn = Object.getOwnPropertyDescriptor;

  /** @param {object} target @param {string | symbol} key @param {unknown} value */
  const hidden = (target, key, value) => defineProperty(target, key, nd({ value, writable: true, configurable: true, enumerable: false }));

  // ---- Memory budget: wasm memories count at their maximum while reachable. ----
  /** @type {Map<number, {refs: WeakRef<object>[], pages: number}>} */
  const reserved = new NativeMap();
  let nextId = 1;
  /** @returns {number} */
  function reservedPages() {
    let sum = 0;
    /** @type {number[]} */
    const dead = [];
    let nDead = 0;
    mapForEach(reserved, (/** @type {{refs: WeakRef<object>[], pages: number}} */ e, /** @type {number} */ id) => {
      let alive = false;
      for (let i = 0; i < e.refs.length; i++) if (deref(e.refs[i]) !== undefined) alive = true;
      if (alive) sum += e.pages;
      else defineProperty(dead, nDead++, nd({ value: id, writable: true, enumerable: true, configurable: true }));
    });
    for (let i = 0; i < nDead; i++) mapDelete(reserved, dead[i]);
    return sum;
  }
  /**
   * Refuses an allocation over the budget: records why (the request is answered `memory`) and throws.
   * @param {string} why
   * @returns {never}
   */
  function overBudget(why) {
    overrun = why;
    throw new RangeErr(`over the server's memory budget (memoryMb): ${why}`);
  }
  /** @param {number} pages @returns {number} the reservation's id */
  function reserve(pages) {
    if (pages === 0) return 0;
    const used = reservedPages();
    if (used + pages > budgetPages) {
      overBudget(`${pages * PAGE} bytes wanted outside the heap, ${used * PAGE} of ${budgetPages * PAGE} already held by reachable wasm memories and resizable buffers (each counts at its maximum)`);
    }
    const id = nextId++;
    mapSet(reserved, id, { __proto__: null, refs: [], pages });
    return id;
  }
  /** @param {number} id @param {object} target */
  function hold(id, target) {
    if (id === 0) return;
    mapForEach(reserved, (/** @type {{refs: WeakRef<object>[]}} */ e, /** @type {number} */ k) => {
      if (k === id) defineProperty(e.refs, e.refs.length, nd({ value: new NativeWeakRef(target), writable: true, enumerable: true, configurable: true }));
    });
  }

  // ---- Module bytes: copied (the tenant cannot change them after the check), memories clamped. ----
  /** @param {unknown} src @returns {Uint8Array} */
  function copyBytes(src) {
    let buf;
    let off = 0;
    let len;
    if (src instanceof NativeAB) {
      buf = src;
      len = abByteLength(src);
    } else if (isView(src)) {
      const view = /** @type {ArrayBufferView} */ (src);
      if (view instanceof NativeDataView) {
        buf = dvBuffer(view);
        off = dvByteOffset(view);
        len = dvByteLength(view);
      } else {
        buf = viewBuffer(view);
        off = viewOffset(view);
        len = viewLength(view);
      }
    } else {
      throw new TypeErr('WebAssembly: argument 0 must be a buffer source');
    }
    const out = new NativeU8(len);
    u8Set(out, new NativeU8(buf, off, len));
    return out;
  }

  /**
   * The module with every memory it defines given a maximum of at most the budget, and the sum of
   * those maxima, pages. Shared and 64-bit memories are refused. Only the memory section (id 5) is
   * read or written; everything else is left to V8's own validation.
   * @param {Uint8Array} b
   * @returns {{bytes: Uint8Array, pages: number}}
   */
  function clampModule(b) {
    let p = 8;
    const n = b.length;
    /** @returns {number} */
    const leb = () => {
      let result = 0;
      let shift = 0;
      for (;;) {
        if (p >= n || shift > 28) throw new CompileErr('WebAssembly.Module(): malformed LEB128 in the module');
        const byte = b[p++];
        result += (byte & 0x7f) * 2 ** shift;
        if ((byte & 0x80) === 0) return result;
        shift += 7;
      }
    };
    /** @param {number} v @returns {number[]} */
    const enc = (v) => {
      /** @type {number[]} */
      const out = [];
      let i = 0;
      do {
        let byte = v % 128;
        v = mathFloor(v / 128);
        if (v > 0) byte |= 0x80;
        defineProperty(out, i++, nd({ value: byte, writable: true, enumerable: true, configurable: true }));
      } while (v > 0);
      return out;
    };
    /** @param {number[]} to @param {number[]} from */
    const append = (to, from) => {
      for (let j = 0; j < from.length; j++) defineProperty(to, to.length, nd({ value: from[j], writable: true, enumerable: true, configurable: true }));
    };
    if (n < 8) return { bytes: b, pages: 0 };
    while (p < n) {
      const sectionStart = p;
      const id = b[p++];
      const size = leb();
      const bodyStart = p;
      const end = bodyStart + size;
      if (end > n) return { bytes: b, pages: 0 }; // truncated: V8 refuses it
      if (id !== 5) {
        p = end;
        continue;
      }
      const count = leb();
      /** @type {number[]} */
      const body = enc(count);
      let pages = 0;
      for (let i = 0; i < count; i++) {
        const flags = leb();
        if ((flags & 0x02) !== 0) throw new CompileErr('WebAssembly.Module(): shared memories are not available in isohttpd (no threads)');
        if ((flags & ~0x01) !== 0) throw new CompileErr('WebAssembly.Module(): only 32-bit memories with 64 KiB pages are available in isohttpd');
        const min = leb();
        const max = flags === 1 ? leb() : Infinity;
        if (min > budgetPages) overBudget(`WebAssembly.Module(): a memory of ${min} pages, the budget is ${budgetPages}`);
        const clamped = max < budgetPages ? max : budgetPages;
        pages += clamped;
        append(body, [1]);
        append(body, enc(min));
        append(body, enc(clamped));
      }
      if (p !== end) throw new CompileErr('WebAssembly.Module(): malformed memory section');
      const sizeBytes = enc(body.length);
      const out = new NativeU8(sectionStart + 1 + sizeBytes.length + body.length + (n - end));
      u8Set(out, new NativeU8(b.buffer, 0, sectionStart + 1));
      let at = sectionStart + 1;
      for (let j = 0; j < sizeBytes.length; j++) out[at++] = sizeBytes[j];
      for (let j = 0; j < body.length; j++) out[at++] = body[j];
      u8Set(out, new NativeU8(b.buffer, end, n - end), at);
      return { bytes: out, pages }; // one memory section at most
    }
    return { bytes: b, pages: 0 };
  }

  /** Pages every instance of a module reserves (the clamped maxima of the memories it defines). */
  const modulePages = new NativeWeakMap();

  /** @this {unknown} @param {unknown} bytes */
  function Module(bytes) {
    if (new.target === undefined) throw new TypeErr("WebAssembly.Module must be invoked with 'new'");
    const clamped = clampModule(copyBytes(bytes));
    const mod = construct(NativeModule, [clamped.bytes], new.target);
    wmSet(modulePages, mod, clamped.pages);
    return mod;
  }
  /** @this {unknown} @param {unknown} mod @param {unknown} [imports] */
  function Instance(mod, imports) {
    if (new.target === undefined) throw new TypeErr("WebAssembly.Instance must be invoked with 'new'");
    if (!wmHas(modulePages, /** @type {object} */ (mod))) throw new TypeErr('WebAssembly.Instance(): Argument 0 must be a WebAssembly.Module');
    const id = reserve(wmGet(modulePages, mod));
    let inst;
    try {
      inst = construct(NativeInstance, imports === undefined ? [mod] : [mod, imports], new.target);
    } catch (e) {
      mapDelete(reserved, id);
      throw e;
    }
    hold(id, inst);
    // A memory the instance exports stays reserved while it is reachable, even once the instance is not.
    const ex = instExports(inst);
    const keys = ownKeys(ex);
    for (let i = 0; i < keys.length; i++) {
      const d = getOwn(ex, keys[i]);
      if (d !== undefined && d.value instanceof NativeMemory) hold(id, d.value);
    }
    return inst;
  }
  /** @this {unknown} @param {any} desc */
  function Memory(desc) {
    if (new.target === undefined) throw new TypeErr("WebAssembly.Memory must be invoked with 'new'");
    if (desc === null || (typeof desc !== 'object' && typeof desc !== 'function')) throw new TypeErr('WebAssembly.Memory(): Argument 0 must be a memory descriptor');
    const initial = desc.initial;
    const maximum = desc.maximum;
    const shared = desc.shared;
    const address = desc.address;
    const index = desc.index;
    if (shared) throw new TypeErr('WebAssembly.Memory(): shared memories are not available in isohttpd (no threads)');
    if ((address !== undefined && `${address}` !== 'i32') || (index !== undefined && `${index}` !== 'i32')) {
      throw new TypeErr('WebAssembly.Memory(): only 32-bit memories are available in isohttpd');
    }
    const min = initial === undefined ? undefined : +initial;
    const max = maximum === undefined ? budgetPages : mathMin(+maximum, budgetPages);
    if (min !== undefined && min > budgetPages) overBudget(`WebAssembly.Memory(): ${min} pages, the budget is ${budgetPages}`);
    // A clean descriptor: V8 reads it with [[Get]], which would see properties the tenant put on Object.prototype.
    const clean = { __proto__: null, initial: min, maximum: min !== undefined && max < min ? min : max };
    const id = reserve(clean.maximum);
    let mem;
    try {
      mem = construct(NativeMemory, [clean], new.target);
    } catch (e) {
      mapDelete(reserved, id);
      throw e;
    }
    hold(id, mem);
    return mem;
  }
  /** @param {unknown} bytes @returns {Promise<unknown>} */
  function compile(bytes) {
    return new NativePromise((resolve) => resolve(construct(Module, [bytes])));
  }
  /** @param {unknown} source @param {unknown} [imports] */
  function instantiate(source, imports) {
    return new NativePromise((resolve) => {
      if (wmHas(modulePages, /** @type {object} */ (source))) return resolve(construct(Instance, [source, imports]));
      const module = construct(Module, [source]);
      const instance = construct(Instance, [module, imports]);
      resolve({ module, instance });
    });
  }

  /**
   * Replaces the constructor `name` of `owner` by `wrapper`, keeping the native prototype (so that
   * `instanceof` and every existing object keep working) and pointing its `constructor` back.
   * @param {any} owner @param {string} name @param {Function} wrapper @param {number} length
   */
  function swapConstructor(owner, name, wrapper, length) {
    const native = owner[name];
    defineProperty(wrapper, 'prototype', nd({ value: native.prototype, writable: false, enumerable: false, configurable: false }));
    defineProperty(wrapper, 'name', nd({ value: name, configurable: true }));
    defineProperty(wrapper, 'length', nd({ value: length, configurable: true }));
    const statics = ownKeys(native);
    for (let i = 0; i < statics.length; i++) {
      const k = statics[i];
      if (k === 'prototype' || k === 'name' || k === 'length') continue;
      const d = getOwn(native, k);
      if (d !== undefined) defineProperty(wrapper, k, d);
    }
    hidden(native.prototype, 'constructor', wrapper);
    hidden(owner, name, wrapper);
  }

  // Resizable ArrayBuffers reserve (and commit as they grow) memory outside the allocator
  // isolated-vm counts: each counts at its maxByteLength against the budget while reachable.
  const bufferIds = new NativeWeakMap();
  const abResizable = getter(NativeAB.prototype, 'resizable');
  const nativeTransfer = uncurry(NativeAB.prototype.transfer);
  const nativeTransferFixed = uncurry(NativeAB.prototype.transferToFixedLength);
  /** @this {unknown} @param {unknown} length @param {any} [options] */
  // biome-ignore lint/suspicious/noShadowRestrictedNames: named as the constructor it stands for.
  function ArrayBuffer(length, options) {
    if (new.target === undefined) throw new TypeErr("Constructor ArrayBuffer requires 'new'");
    const max = options !== null && (typeof options === 'object' || typeof options === 'function') ? options.maxByteLength : undefined;
    if (max === undefined) return construct(NativeAB, [length], new.target);
    const maxBytes = +max;
    if (!(maxBytes >= 0)) return construct(NativeAB, [length, { __proto__: null, maxByteLength: max }], new.target); // V8's own RangeError
    if (maxBytes > budgetPages * PAGE) overBudget(`ArrayBuffer: maxByteLength ${maxBytes}, the budget is ${budgetPages * PAGE} bytes`);
    const id = reserve(mathCeil(maxBytes / PAGE));
    let buf;
    try {
      buf = construct(NativeAB, [length, { __proto__: null, maxByteLength: maxBytes }], new.target);
    } catch (e) {
      mapDelete(reserved, id);
      throw e;
    }
    hold(id, buf);
    wmSet(bufferIds, buf, id);
    return buf;
  }
  /**
   * A transfer keeps the backing store (and the reservation) of a resizable buffer.
   * @param {(b: ArrayBuffer, n?: number) => ArrayBuffer} native
   * @param {string} name
   */
  const transferring = (native, name) => {
    const fn = {
      /** @this {ArrayBuffer} @param {number} [n] */
      [name](n) {
        const resizable = abResizable(this);
        const id = resizable ? wmGet(bufferIds, this) : undefined;
        const out = arguments.length === 0 ? native(this) : native(this, n);
        if (id !== undefined) {
          hold(id, out);
          wmSet(bufferIds, out, id);
        }
        return out;
      },
    }[name];
    defineProperty(fn, 'length', nd({ value: 0, configurable: true }));
    hidden(NativeAB.prototype, name, fn);
  };
  transferring(nativeTransfer, 'transfer');
  transferring(nativeTransferFixed, 'transferToFixedLength');

  // A JavaScript grow past the budget is an overrun (a wasm `memory.grow` past a memory's maximum just fails, -1).
  const nativeGrow = uncurry(NativeMemory.prototype.grow);
  const grow = {
    /** @this {any} @param {number} delta */
    grow(delta) {
      const pages = abByteLength(memBuffer(this)) / PAGE + +delta;
      if (pages > budgetPages) overBudget(`WebAssembly.Memory.grow(): ${pages} pages, the budget is ${budgetPages}`);
      return nativeGrow(this, delta);
    },
  }.grow;
  hidden(NativeMemory.prototype, 'grow', grow);
  swapConstructor(G, 'ArrayBuffer', ArrayBuffer, 1);
  swapConstructor(WA, 'Module', Module, 1);
  swapConstructor(WA, 'Instance', Instance, 1);
  swapConstructor(WA, 'Memory', Memory, 1);
  hidden(WA, 'compile', compile);
  hidden(WA, 'instantiate', instantiate);
  defineProperty(compile, 'name', nd({ value: 'compile', configurable: true }));
  defineProperty(instantiate, 'name', nd({ value: 'instantiate', configurable: true }));
  deleteProperty(WA, 'compileStreaming');
  deleteProperty(WA, 'instantiateStreaming');
  deleteProperty(G, 'SharedArrayBuffer');
  deleteProperty(g.Atomics, 'waitAsync');

  // FinalizationRegistry: same API, callbacks never run (they would run as V8 tasks outside any time limit).
  const tokens = new NativeWeakMap();
  const canBeHeldWeakly = (/** @type {unknown} */ v) => (v !== null && (typeof v === 'object' || typeof v === 'function')) || typeof v === 'symbol';
  // biome-ignore lint/suspicious/noShadowRestrictedNames: named as the constructor it stands for.
  class FinalizationRegistry {
    /** @param {unknown} cleanup */
    constructor(cleanup) {
      if (typeof cleanup !== 'function') throw new TypeErr('FinalizationRegistry: cleanup must be callable');
    }
    /** @param {unknown} target @param {unknown} held @param {unknown} [token] @returns {undefined} */
    register(target, held, token) {
      if (!canBeHeldWeakly(target)) throw new TypeErr('FinalizationRegistry.prototype.register: invalid target');
      if (target === held) throw new TypeErr('FinalizationRegistry.prototype.register: target and holdings must not be same');
      if (token !== undefined) {
        if (!canBeHeldWeakly(token)) throw new TypeErr('FinalizationRegistry.prototype.register: invalid unregister token');
        wmSet(tokens, /** @type {object} */ (token), true);
      }
      return undefined;
    }
    /** @param {unknown} token @returns {boolean} */
    unregister(token) {
      if (!canBeHeldWeakly(token)) throw new TypeErr('FinalizationRegistry.prototype.unregister: invalid unregister token');
      return wmDelete(tokens, /** @type {object} */ (token));
    }
  }
  defineProperty(FinalizationRegistry.prototype, toStringTag, nd({ value: 'FinalizationRegistry', configurable: true }));
  hidden(G, 'FinalizationRegistry', FinalizationRegistry);
}
