// The trusted module that runs inside each isolate beside the tenant's: it builds the request dict, calls the handler and serializes its result.

/**
 * Source of the bootstrap module. It imports the tenant module as `tenant`, and exports:
 * - `handlerType`: `typeof` the tenant's default export (the host refuses anything but "function");
 * - `dispatch(requestJson, body)`: parses the request dict, adds `datastream` over `body`, awaits
 *   the handler and returns `[kind, text, bytes]`, where kind is `ok` (text: the response dict as
 *   JSON, bytes: a binary `message` or null), `exception` or `invalid` (text: the reason).
 *
 * Everything here runs under the request's time limit, serialization included, so getters and
 * proxies in a response only ever spend the tenant's own time. Only strings and a fresh
 * Uint8Array leave the isolate. The intrinsics used are captured before the tenant's code can
 * replace them; a tenant that tampers with its own globals can only break its own responses,
 * which the host validates anyway.
 */
export function bootstrapSource(maxResponseBytes: number): string {
  return `
import * as tenant from 'tenant';
const handler = tenant.default;
export const handlerType = typeof handler;

const U8 = Uint8Array;
const parse = JSON.parse;
const stringify = JSON.stringify;
const freeze = Object.freeze;
const isArray = Array.isArray;
const fromCharCode = String.fromCharCode;
const floor = Math.floor;
const MAX = ${Math.floor(maxResponseBytes)};

function decodeUtf8(b) {
  let out = '';
  let chunk = [];
  for (let i = 0; i < b.length;) {
    const c = b[i];
    let cp = 0xfffd;
    let n = 1;
    if (c < 0x80) { cp = c; }
    else if (c >= 0xc2 && c <= 0xdf && i + 1 < b.length && (b[i + 1] & 0xc0) === 0x80) { cp = ((c & 0x1f) << 6) | (b[i + 1] & 0x3f); n = 2; }
    else if (c >= 0xe0 && c <= 0xef && i + 2 < b.length && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80) {
      const v = ((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
      if (v >= 0x800 && (v < 0xd800 || v > 0xdfff)) { cp = v; n = 3; }
    } else if (c >= 0xf0 && c <= 0xf4 && i + 3 < b.length && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80 && (b[i + 3] & 0xc0) === 0x80) {
      const v = ((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
      if (v >= 0x10000 && v <= 0x10ffff) { cp = v; n = 4; }
    }
    if (cp > 0xffff) { cp -= 0x10000; chunk.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff)); }
    else chunk.push(cp);
    if (chunk.length >= 4096) { out += fromCharCode.apply(null, chunk); chunk = []; }
    i += n;
  }
  return out + fromCharCode.apply(null, chunk);
}

function makeDatastream(body) {
  let offset = 0;
  return freeze({
    read(size) {
      let n = body.length - offset;
      if (size !== undefined && size !== null) {
        if (typeof size !== 'number' || !(size >= 0) || floor(size) !== size) throw new TypeError('datastream.read(size): size must be a non-negative integer');
        if (size < n) n = size;
      }
      const out = body.slice(offset, offset + n);
      offset += n;
      return out;
    },
    text() {
      const out = decodeUtf8(body.subarray(offset));
      offset = body.length;
      return out;
    },
  });
}

function describe(e) {
  let s;
  try {
    s = (e !== null && typeof e === 'object' && 'message' in e) ? '' + e.message : '' + e;
  } catch (_) {
    s = 'an exception that cannot be shown';
  }
  return s.length > 1024 ? s.slice(0, 1024) + '...' : s;
}

function kindOf(v) {
  return v === null ? 'null' : isArray(v) ? 'an array' : typeof v;
}

export async function dispatch(requestJson, body) {
  const request = parse(requestJson);
  request.datastream = makeDatastream(body);
  let res;
  try {
    res = await handler(request);
  } catch (e) {
    return ['exception', describe(e), null];
  }
  try {
    if (res === null || typeof res !== 'object' || isArray(res)) return ['invalid', 'response must be an object, got ' + kindOf(res), null];
    const message = res.message;
    const bytes = message instanceof U8 ? new U8(message) : null;
    const json = bytes === null ? stringify(res) : stringify(res, function (k, v) { return this === res && k === 'message' ? '' : v; });
    if (typeof json !== 'string') return ['invalid', 'response could not be serialized', null];
    if (json.length + (bytes === null ? 0 : bytes.length) > MAX) return ['invalid', 'response is larger than maxResponseBytes (' + MAX + ' bytes)', null];
    return ['ok', json, bytes];
  } catch (e) {
    return ['invalid', 'response could not be serialized: ' + describe(e), null];
  }
}
`;
}
