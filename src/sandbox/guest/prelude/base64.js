// The tenant's btoa and atob (HTML Standard, forgiving-base64), over Latin-1 strings.
// @ts-check

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * The error both throw: a DOMException named InvalidCharacterError in browsers, an Error with that name here.
 * @param {string} msg
 * @returns {Error}
 */
function invalid(msg) {
  const e = new Error(msg);
  e.name = 'InvalidCharacterError';
  return e;
}

/**
 * Base64 of a string of Latin-1 characters.
 * @param {unknown} data
 * @returns {string}
 */
export function btoa(data) {
  const s = String(data);
  let out = '';
  for (let i = 0; i < s.length; i += 3) {
    const a = s.charCodeAt(i),
      b = s.charCodeAt(i + 1),
      c = s.charCodeAt(i + 2);
    if (a > 255 || b > 255 || c > 255) throw invalid('btoa: the string contains characters outside of the Latin1 range');
    const n = (a << 16) | ((b || 0) << 8) | (c || 0);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < s.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < s.length ? B64[n & 63] : '=');
  }
  return out;
}

/**
 * The Latin-1 string a base64 text encodes (ASCII whitespace ignored, padding optional).
 * @param {unknown} data
 * @returns {string}
 */
export function atob(data) {
  let s = String(data).replace(/[\t\n\f\r ]/g, '');
  if (s.length % 4 === 0) s = s.replace(/==?$/, '');
  if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) throw invalid('atob: the string to be decoded is not correctly encoded');
  let out = '';
  let bits = 0,
    acc = 0;
  for (let i = 0; i < s.length; i++) {
    acc = (acc << 6) | B64.indexOf(s[i]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((acc >> bits) & 255);
    }
  }
  return out;
}
