// UTF-8 in plain JavaScript: the tenant's TextEncoder and TextDecoder (utf-8 only, as the WHATWG Encoding Standard defines it), and the decoder the bootstrap's datastream.text() uses.
// @ts-check

/**
 * UTF-8 bytes of `String(str)`; a lone surrogate becomes U+FFFD.
 * @param {unknown} str
 * @returns {Uint8Array}
 */
export function utf8Encode(str) {
  const s = String(str);
  /** @type {number[]} */
  const out = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else c = 0xfffd;
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

/**
 * The text of UTF-8 bytes: an invalid sequence becomes U+FFFD, or throws a TypeError when `fatal`.
 * @param {ArrayLike<number>} b
 * @param {boolean} fatal
 * @returns {string}
 */
export function utf8Decode(b, fatal) {
  let out = '';
  /** @type {number[]} */
  let chunk = [];
  const bad = () => {
    if (fatal) throw new TypeError('The encoded data was not valid for encoding utf-8');
    return 0xfffd;
  };
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    let cp = -1;
    let n = 1;
    if (c < 0x80) cp = c;
    else if (c >= 0xc2 && c <= 0xdf && i + 1 < b.length && (b[i + 1] & 0xc0) === 0x80) {
      cp = ((c & 0x1f) << 6) | (b[i + 1] & 0x3f);
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef && i + 2 < b.length && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80) {
      const v = ((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
      if (v >= 0x800 && (v < 0xd800 || v > 0xdfff)) {
        cp = v;
        n = 3;
      }
    } else if (c >= 0xf0 && c <= 0xf4 && i + 3 < b.length && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80 && (b[i + 3] & 0xc0) === 0x80) {
      const v = ((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
      if (v >= 0x10000 && v <= 0x10ffff) {
        cp = v;
        n = 4;
      }
    }
    if (cp < 0) cp = bad();
    if (cp > 0xffff) {
      cp -= 0x10000;
      chunk.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else chunk.push(cp);
    if (chunk.length >= 4096) {
      out += String.fromCharCode.apply(null, chunk);
      chunk = [];
    }
    i += n;
  }
  return out + String.fromCharCode.apply(null, chunk);
}

/**
 * The bytes an ArrayBuffer or a view covers (no copy).
 * @param {unknown} input
 * @returns {Uint8Array}
 */
function bytesOf(input) {
  if (input === undefined) return new Uint8Array(0);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError('The "input" argument must be an ArrayBuffer or ArrayBufferView');
}

/** WHATWG Encoding Standard's TextEncoder (utf-8). */
export class TextEncoder {
  /** @returns {string} */
  get encoding() {
    return 'utf-8';
  }
  /**
   * @param {unknown} [input]
   * @returns {Uint8Array}
   */
  encode(input = '') {
    return utf8Encode(input);
  }
  /**
   * @param {unknown} input
   * @param {Uint8Array} dest
   * @returns {{ read: number, written: number }}
   */
  encodeInto(input, dest) {
    const bytes = utf8Encode(input);
    const n = Math.min(bytes.length, dest.length);
    dest.set(bytes.subarray(0, n));
    return { read: n === bytes.length ? String(input).length : utf8Decode(bytes.subarray(0, n), false).length, written: n };
  }
}

/** WHATWG Encoding Standard's TextDecoder, utf-8 only (its labels; `fatal` and `ignoreBOM`, no streaming). */
export class TextDecoder {
  /** @type {boolean} */
  #fatal;
  /** @type {boolean} */
  #ignoreBOM;
  /**
   * @param {unknown} [label]
   * @param {{ fatal?: unknown, ignoreBOM?: unknown } | null} [options]
   */
  constructor(label = 'utf-8', options = {}) {
    const l = String(label).trim().toLowerCase();
    if (l !== 'utf-8' && l !== 'utf8' && l !== 'unicode-1-1-utf-8') throw new RangeError('The "' + label + '" encoding is not supported (only utf-8)');
    // `options && options.fatal`, not `options?.fatal`: a falsy primitive (0, '') must not be read through its prototype.
    // biome-ignore lint/complexity/useOptionalChain: see above.
    this.#fatal = Boolean(options && options.fatal);
    // biome-ignore lint/complexity/useOptionalChain: see above.
    this.#ignoreBOM = Boolean(options && options.ignoreBOM);
  }
  /** @returns {string} */
  get encoding() {
    return 'utf-8';
  }
  /** @returns {boolean} */
  get fatal() {
    return this.#fatal;
  }
  /** @returns {boolean} */
  get ignoreBOM() {
    return this.#ignoreBOM;
  }
  /**
   * @param {unknown} [input]
   * @returns {string}
   */
  decode(input) {
    let b = bytesOf(input);
    if (!this.#ignoreBOM && b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
    return utf8Decode(b, this.#fatal);
  }
}
