// The trusted module that runs last in each isolate (after the prelude and the tenant's): it builds the request dict, calls the handler and serializes its result.

/**
 * Source of the bootstrap module. It imports the tenant module as `tenant`, and exports:
 * - `handlerType`: `typeof` the tenant's default export (the host refuses anything but "function");
 * - `dispatch(requestJson, body)`: parses the request dict, adds `datastream` over `body`, awaits
 *   the handler and returns `[kind, text, bytes, logs]`, where kind is `ok` (text: the response
 *   dict as JSON, bytes: a binary `message` or null), `exception` or `invalid` (text: the reason),
 *   and logs the console lines the request wrote (`[[level, text], ...]`);
 * - `drainLogs()`: the console lines written since the last drain (after module evaluation).
 *
 * Everything here runs under the request's time limit, serialization included, so getters and
 * proxies in a response only ever spend the tenant's own time. Only strings and a fresh
 * Uint8Array leave the isolate. The intrinsics used are captured before the tenant's code can
 * replace them; a tenant that tampers with its own globals can only break its own responses,
 * which the host validates anyway.
 */
export function bootstrapSource(maxResponseBytes: number): string {
  return `
import { drainLogs, utf8Decode } from 'prelude';
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
      const out = utf8Decode(body.subarray(offset), false);
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

export { drainLogs };

export async function dispatch(requestJson, body) {
  const [kind, text, bytes] = await run(requestJson, body);
  return [kind, text, bytes, drainLogs()];
}

async function run(requestJson, body) {
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
