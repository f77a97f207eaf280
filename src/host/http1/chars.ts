// Byte classes of the HTTP and URI grammar as lookup tables, each taken from the RFC 9110 / RFC 9112 / RFC 3986 ABNF it cites.

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}

const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * RFC 9110 §5.6.2: `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_"
 * / "`" / "|" / "~" / DIGIT / ALPHA`; `token = 1*tchar`. Methods (§9.1) and field names (§5.1) are tokens.
 */
export const TCHAR = table((c) => isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/**
 * RFC 9110 §5.5: `field-value = *field-content`, `field-vchar = VCHAR / obs-text`, with SP and HTAB
 * between. So a value byte is HTAB, SP, VCHAR (%x21-7E) or obs-text (%x80-FF); CR, LF, NUL, the
 * other CTLs and DEL are rejected (§5.5: "a recipient ... MUST either reject the message").
 */
export const FIELD_VCHAR = table((c) => c === 0x09 || (c >= 0x20 && c <= 0x7e) || c >= 0x80);

/**
 * RFC 9112 §3.2 request-target (origin-form `absolute-path [ "?" query ]`, absolute-form,
 * authority-form, asterisk-form): all of these are made of VCHAR (%x21-7E) only: no SP, no CTL,
 * no DEL, no obs-text. The head scanners check this class as bytes arrive; the finer URI grammar
 * (RFC 3986: {@link PATH_CHAR}, {@link QUERY_CHAR}, the authority) is checked on the complete target (uri.ts).
 */
export const TARGET_CHAR = table((c) => c >= 0x21 && c <= 0x7e);

// RFC 3986 §2.2, §2.3: `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"`,
// `sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="`.
const isUnreserved = (c: number): boolean => isAlpha(c) || isDigit(c) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
const isSubDelim = (c: number): boolean => "!$&'()*+,;=".includes(String.fromCharCode(c));
const isPchar = (c: number): boolean => isUnreserved(c) || isSubDelim(c) || c === 0x3a || c === 0x40;

/**
 * RFC 3986 §3.3: `pchar = unreserved / pct-encoded / sub-delims / ":" / "@"`, and the "/" between
 * segments (`absolute-path = 1*( "/" segment )`, `segment = *pchar`): the bytes of a path. The "%" of
 * `pct-encoded` (§2.1) is not in the table: the scanner checks the two HEXDIG after it.
 */
export const PATH_CHAR = table((c) => isPchar(c) || c === 0x2f);

/** RFC 3986 §3.4: `query = *( pchar / "/" / "?" )`, "%" again left to the scanner (§2.1). */
export const QUERY_CHAR = table((c) => isPchar(c) || c === 0x2f || c === 0x3f);

/**
 * RFC 3986 §3.2.2: `reg-name = *( unreserved / pct-encoded / sub-delims )`, "%" left to the scanner,
 * and without ",": RFC 9110 §7.2 makes Host a single value, and a comma is how two Host lines joined
 * by some intermediary would read (`a, b`), so a comma in a host is refused rather than guessed at.
 */
export const REG_NAME_CHAR = table((c) => (isUnreserved(c) || isSubDelim(c)) && c !== 0x2c);

/** RFC 3986 §3.2.2: `IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )`, the part after the ".". */
export const IPVFUTURE_CHAR = table((c) => isUnreserved(c) || isSubDelim(c) || c === 0x3a);

/**
 * RFC 5234 B.1: `HEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F"` (case-insensitive in practice),
 * as each byte's value: 0-15 for a HEXDIG, -1 for any other byte.
 */
export const HEX_VALUE = ((): Int8Array => {
  const t = new Int8Array(256).fill(-1);
  for (let c = 0; c < 256; c++) {
    if (isDigit(c)) t[c] = c - 0x30;
    else if (c >= 0x41 && c <= 0x46) t[c] = c - 0x41 + 10;
    else if (c >= 0x61 && c <= 0x66) t[c] = c - 0x61 + 10;
  }
  return t;
})();

/** Whether the UTF-16 code `c` (NaN past a string's end) is a HEXDIG (RFC 5234 B.1). */
export function isHexDigit(c: number): boolean {
  return c < 256 && (HEX_VALUE[c] as number) >= 0;
}

/** RFC 9110 §5.6.3: `OWS = *( SP / HTAB )`. */
export const OWS = table((c) => c === 0x20 || c === 0x09);

/**
 * `s` without the OWS (SP and HTAB only, RFC 9110 §5.6.3) at either end. Not `String.prototype.trim`,
 * which also strips NBSP (0xA0, a Latin-1 byte here) and other Unicode spaces: `chunked\xa0` or
 * `5\xa0` must stay what they are, not become a coding or a length a front proxy may not see.
 */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 0x20 || s.charCodeAt(start) === 0x09)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Whether every byte of `buf[start, end)` is in `cls`. */
export function allIn(cls: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if (cls[buf[i] as number] !== 1) return false;
  }
  return true;
}

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const COLON = 0x3a;
