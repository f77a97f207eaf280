// The bootstrap: the guest module evaluated last in each isolate (after the prelude and the tenant's); it builds the request dict, calls the handler and serializes its result.
// @ts-check

// It imports the tenant module as `tenant`, and exports:
// - `handlerType`: `typeof` the tenant's default export (the host refuses anything but "function");
// - `setBodyReader(ref, envJson, timerRef, fetchRef)`: once per isolate, the host's body reader (kept private to this module)
//   and the server's environment as JSON, parsed and frozen here: the handler's second argument;
// - `dispatchBatch([requestJson, id, first, complete, text, ...])`: for each request in turn parses
//   the request dict, adds `datastream` (the bytes `first` already received, then more pulled from
//   the host for request `id` unless the body was `complete`; `text`: a complete body decoded by the
//   host, which `text()` returns while nothing was read, or null) and calls the handler; returns
//   `[results, logs]`: per request `[kind, text, message]`, where kind is `ok` (text: the response
//   dict as JSON with `message: ""`, message: the string or a copy of the Uint8Array it replaces,
//   or null when it is neither), `exception` or `invalid` (text: the reason),
//   or null when the handler returned a promise that has not settled yet; logs are the console
//   lines written (`[[level, text], ...]`);
// - `awaitResult(id)`: the `[kind, text, bytes, logs]` of a request its batch left pending;
// - `salvage()`: after a batch was stopped by its time limit, the results of the requests that
//   finished before it was (the next one is the one that ran out of time);
// - `drainLogs()`: the console lines written since the last drain (after module evaluation);
// - `streamOp(op, id)`: a streamed response's next chunks (op 0), its iterator closed (op 1), or the
//   work its handler gave `waitUntil` awaited (op 2); see STREAM_PULL below.
//
// A result's kind is `stream` when the message is an iterable, an async iterable or a ReadableStream
// (text: the response dict as JSON with `message: ""`); its chunks are pulled by the host with
// `streamOp`. A result has a 4th element, 1, when the handler gave `waitUntil` work still pending:
// the host awaits it with `streamOp(2, id)` after the response, within waitUntilMs.
//
// Everything here runs under the request's time limit, serialization included, so getters and
// proxies in a response only ever spend the tenant's own time. Only strings and a fresh
// Uint8Array leave the isolate. This module's body runs after the tenant's module, so it takes
// every intrinsic it uses from the prelude (`I`, captured before any tenant code ran) and calls no
// method through a prototype or global the tenant can replace: a tenant that tampers with its own
// globals can only break its own responses, which the host validates by type anyway.

import { MAX_RESPONSE_BYTES as MAX, MAX_RESPONSE_HEADER_BYTES as MAX_HEADER_BYTES, MAX_RESPONSE_HEADER_FIELDS as MAX_FIELDS } from 'isohttpd:constants';
import { bare, drainLogs, forgetTimers, I, incomingRequest, nd, responseParts, setConsoleTag, setFetchHost, setTimerHost, streamIterator, takeMemoryOverrun, utf8Decode } from './prelude/index.js';
import * as tenant from 'tenant';

// The default export: a handler function (the request dict form), or an object with a `fetch`
// method (the Workers form: `fetch(request, env, ctx)` returning a Response). Read once, here.
const exported = /** @type {unknown} */ (tenant.default);
const fetchMethod = exported !== null && typeof exported === 'object' ? /** @type {{ fetch?: unknown }} */ (exported).fetch : undefined;
const handler = /** @type {(request: unknown, env: unknown, ctx: unknown) => unknown} */ (exported);
const fetchHandler = /** @type {(request: unknown, env: unknown, ctx: unknown) => unknown} */ (fetchMethod);
/** "function" or "fetch": the host refuses any other. */
export const handlerType =
  typeof exported === 'function' ? 'function' : typeof fetchMethod === 'function' ? 'fetch' : exported !== null && typeof exported === 'object' ? 'an object without a fetch method' : typeof exported;
const FETCH = handlerType === 'fetch';

const {
  U8,
  parse,
  stringify,
  freeze,
  isArray,
  isView,
  floor,
  isU8,
  u8Buffer,
  abByteLength,
  abResizable,
  u8Length,
  u8Offset,
  u8Set,
  mapGet,
  mapSet,
  mapDelete,
  promiseThen,
  asyncIterator,
  iterator,
  stringSlice,
  keys,
  str,
  apply,
  lower,
} = I;

/** @typedef {[kind: 'ok' | 'stream' | 'more' | 'end' | 'exception' | 'invalid' | 'memory', text: string, message: Uint8Array | string | null, background?: 1]} RawResult */
/** @typedef {import('./prelude/console.js').ConsoleLine} ConsoleLine */

// The host's body reader: an isolated-vm Reference kept in this module's scope only (never exported,
// never reachable from tenant code). Calls block this isolate until the host has bytes (or the deadline
// disposes the isolate).
/** @type {HostReference<[id: number, want: number], Uint8Array> | null} */
let pull = null;

/**
 * Called once by the host after evaluation (src/sandbox/isolate-instance.ts); later calls change nothing.
 * @param {HostReference<[id: number, want: number], Uint8Array>} ref
 * @param {unknown} envJson the server's environment as JSON (an object of strings)
 * @param {unknown} [timerRef] the host's timer function (src/sandbox/timer-host.ts), for setTimeout
 * @param {unknown} [fetchRef] the host's outbound fetch function (src/sandbox/outbound-host.ts), for fetch
 */
export function setBodyReader(ref, envJson, timerRef, fetchRef) {
  if (pull !== null) return;
  pull = ref;
  if (timerRef !== undefined) setTimerHost(timerRef);
  if (fetchRef !== undefined) setFetchHost(fetchRef);
  if (typeof envJson === 'string' && envJson !== '{}') ENV = freeze(parse(envJson));
}

/** The server's variables and secrets (an object of strings), frozen: the handler's second argument. */
let ENV = freeze(bare({}));

/**
 * More body bytes of request `id` (at most `want`, -1: all the rest), blocking until the host has them; empty at the end.
 * @param {number} id
 * @param {number} want
 * @returns {Uint8Array}
 */
function fetchMore(id, want) {
  const got = /** @type {HostReference<[id: number, want: number], Uint8Array>} */ (pull).applySyncPromise(undefined, [id, want]);
  return isU8(got) ? got : new U8(0);
}

/**
 * More body bytes of request `id` (at most `want`, -1: all there is once some arrived), without
 * blocking this isolate: the host answers when it has them; empty at the end.
 * @param {number} id
 * @param {number} want
 * @returns {Promise<Uint8Array>}
 */
function fetchMoreAsync(id, want) {
  const ref = /** @type {HostReference<[id: number, want: number], Uint8Array>} */ (pull);
  return new I.Promise((resolve, reject) => {
    promiseThen(ref.apply(undefined, [id, want], bare({ result: bare({ promise: /** @type {const} */ (true) }) })), (/** @type {unknown} */ got) => resolve(isU8(got) ? got : new U8(0)), reject);
  });
}

/**
 * A fresh copy of `src[start, end)` (`new U8(view)` copies, without the species lookups of `slice` and `subarray`).
 * @param {Uint8Array} src
 * @param {number} start
 * @param {number} end
 * @returns {Uint8Array}
 */
function copy(src, start, end) {
  return new U8(new U8(u8Buffer(src), u8Offset(src) + start, end - start));
}

/**
 * @param {Uint8Array[]} parts
 * @param {number} total their length, bytes
 * @returns {Uint8Array}
 */
function concat(parts, total) {
  const out = new U8(total);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    u8Set(out, parts[i], at);
    at += u8Length(parts[i]);
  }
  return out;
}

/**
 * The request's `datastream`: `read(size?)` and `text()` over the bytes received with the request,
 * then more from the host, blocking the isolate while they arrive; `readAsync(size?)`,
 * `textAsync()` and `for await (const chunk of datastream)` the same without blocking it.
 * @param {number} id
 * @param {Uint8Array} first
 * @param {boolean} complete `first` is the whole body
 * @param {string | null} decoded `first` decoded by the host when it is the whole body
 */
function makeDatastream(id, first, complete, decoded) {
  let buf = first;
  /** The whole body as text, decoded by the host; dropped at the first read. */
  let whole = decoded;
  let offset = 0;
  let ended = complete;
  /** An async read is waiting for the host: no other read may run meanwhile. */
  let waiting = false;
  /** @param {unknown} size */
  function checkSize(size) {
    if (size !== undefined && size !== null && (typeof size !== 'number' || !(size >= 0) || floor(size) !== size)) throw new I.TypeError('datastream.read(size): size must be a non-negative integer');
  }
  /**
   * @param {number | null} [size]
   * @returns {Uint8Array}
   */
  function read(size) {
    if (waiting) throw new I.TypeError('datastream: an async read is still waiting');
    whole = null;
    if (size !== undefined && size !== null) {
      checkSize(size);
      if (size === 0) return new U8(0);
      if (offset >= u8Length(buf)) {
        if (ended) return new U8(0);
        buf = fetchMore(id, size);
        offset = 0;
        if (u8Length(buf) === 0) {
          ended = true;
          return new U8(0);
        }
      }
      const left = u8Length(buf) - offset;
      const n = size < left ? size : left;
      const out = copy(buf, offset, offset + n);
      offset += n;
      return out;
    }
    /** @type {Uint8Array[]} */
    const parts = bare([]);
    parts[0] = copy(buf, offset, u8Length(buf));
    let total = u8Length(buf) - offset;
    while (!ended) {
      const more = fetchMore(id, -1);
      if (u8Length(more) === 0) ended = true;
      else {
        parts[parts.length] = more;
        total += u8Length(more);
      }
    }
    buf = new U8(0);
    offset = 0;
    return concat(parts, total);
  }
  /**
   * Like {@link read}, without blocking the isolate while bytes are on their way.
   * @param {number | null} [size]
   * @returns {Promise<Uint8Array>}
   */
  function readAsync(size) {
    return new I.Promise((resolve, reject) => {
      if (waiting) throw new I.TypeError('datastream: an async read is still waiting');
      checkSize(size);
      const sized = size !== undefined && size !== null;
      // What is here already is answered at once (read does not wait for it).
      if (ended || (sized && (size === 0 || offset < u8Length(buf)))) return resolve(read(size));
      waiting = true;
      /** @type {Uint8Array[]} */
      const parts = bare([]);
      let total = 0;
      if (!sized) {
        parts[0] = copy(buf, offset, u8Length(buf));
        total = u8Length(buf) - offset;
        buf = new U8(0);
        offset = 0;
      }
      const fail = (/** @type {unknown} */ err) => {
        waiting = false;
        reject(err);
      };
      const more = () =>
        promiseThen(
          fetchMoreAsync(id, sized ? /** @type {number} */ (size) : -1),
          (/** @type {Uint8Array} */ got) => {
            try {
              if (u8Length(got) === 0) ended = true;
              if (sized) {
                buf = got;
                offset = 0;
                waiting = false;
                return resolve(read(size));
              }
              if (!ended) {
                parts[parts.length] = got;
                total += u8Length(got);
                return more();
              }
              waiting = false;
              resolve(concat(parts, total));
            } catch (err) {
              fail(err);
            }
          },
          fail,
        );
      more();
    });
  }
  /** Chunks of at most this many bytes for `for await`. */
  const CHUNK = 65536;
  // Without a prototype, made so after the literal: a `__proto__: null` literal is created in V8's
  // slow dictionary mode, which cost every request about a microsecond.
  const datastream = bare({
    read,
    text() {
      if (whole !== null && !waiting) {
        const text = whole;
        whole = null;
        buf = new U8(0);
        offset = 0;
        return text;
      }
      return utf8Decode(read(), false);
    },
    readAsync,
    textAsync() {
      if (whole !== null && !waiting) return new I.Promise((resolve) => resolve(datastream.text()));
      return promiseThen(readAsync(), (/** @type {Uint8Array} */ bytes) => utf8Decode(bytes, false));
    },
  });
  I.defineProperty(
    datastream,
    asyncIterator,
    nd({
      value: () =>
        freeze(
          bare({
            next: () => promiseThen(readAsync(CHUNK), (/** @type {Uint8Array} */ chunk) => freeze(bare(u8Length(chunk) === 0 ? { done: true, value: undefined } : { done: false, value: chunk }))),
          }),
        ),
    }),
  );
  return freeze(datastream);
}

/**
 * What a thrown value says, at most 1024 characters (plus an ellipsis).
 * @param {unknown} e
 * @returns {string}
 */
function describe(e) {
  let s;
  try {
    s = e !== null && typeof e === 'object' && 'message' in e ? str(e.message) : str(e);
  } catch (_) {
    s = 'an exception that cannot be shown';
  }
  return s.length > 1024 ? stringSlice(s, 0, 1024) + '...' : s;
}

/** Most characters of a thrown value's stack taken out of the isolate (4 KiB). */
const MAX_STACK = 4096;

/**
 * The `exception` result of a thrown value: what it says, then, if it is an object with a string
 * `stack`, a NUL and that stack (at most {@link MAX_STACK} characters; frames of the tenant's module
 * are named `handler.js:line:column`). The stack is read here, under the request's deadline, and a
 * getter or proxy that throws only loses it.
 * @param {unknown} e
 * @returns {RawResult}
 */
function thrown(e) {
  const message = describe(e);
  let stack = '';
  try {
    const s = e !== null && typeof e === 'object' ? /** @type {{ stack?: unknown }} */ (e).stack : undefined;
    if (typeof s === 'string') stack = s.length > MAX_STACK ? stringSlice(s, 0, MAX_STACK) : s;
  } catch (_) {
    stack = '';
  }
  return ['exception', stack === '' ? message : message + '\u0000' + stack, null];
}

/**
 * @param {unknown} v
 * @returns {string}
 */
function kindOf(v) {
  return v === null ? 'null' : isArray(v) ? 'an array' : typeof v;
}

export { drainLogs };

// The batch being run: results so far (null: the handler's promise is still pending), in order.
// After a batch timed out, `salvage` returns them: the request after the last one is the one that ran
// out of time, and the requests after it never started.
/** @type {Array<RawResult | null>} */
let done = [];
/** @type {Map<number, Promise<RawResult>>} */
const waiting = new I.Map();

/**
 * Runs each request of the batch in turn.
 * @param {unknown[]} batch flat `[requestJson, id, first, complete, text, ...]`, as the host copied it in
 * @param {unknown[]} [received] ids of awaited requests whose results the host has received since the last batch: their kept results are dropped
 * @param {unknown[]} [cancelledTimers] ids of timers the host cancelled since (their requests ended): forgotten
 * @returns {[Array<RawResult | null>, ConsoleLine[]]}
 */
export function dispatchBatch(batch, received, cancelledTimers) {
  // A handler stopped by a time limit never ran its `finally`: no tag outlives its request.
  setConsoleTag(0);
  forgetTimers(cancelledTimers);
  if (isArray(received)) for (let i = 0; i < received.length; i++) mapDelete(settledResults, received[i]);
  done = bare([]);
  for (let i = 0; i + 4 < batch.length; i += 5) {
    const text = batch[i + 4];
    done[done.length] = start(
      /** @type {string} */ (batch[i]),
      /** @type {number} */ (batch[i + 1]),
      /** @type {Uint8Array} */ (batch[i + 2]),
      /** @type {boolean} */ (batch[i + 3]),
      typeof text === 'string' ? text : null,
    );
  }
  const out = done;
  done = [];
  last = out;
  return [out, drainLogs()];
}

/**
 * After the batch call was stopped by its time limit: the results so far.
 * @returns {[Array<RawResult | null>, ConsoleLine[]]}
 */
export function salvage() {
  const out = done;
  done = [];
  return [out, drainLogs()];
}

/**
 * The result of a request whose handler returned a promise, once it settles.
 * @param {number} id
 * @returns {[RawResult[0], RawResult[1], RawResult[2], ConsoleLine[], RawResult[3]] | Promise<[RawResult[0], RawResult[1], RawResult[2], ConsoleLine[], RawResult[3]]>}
 */
export function awaitResult(id) {
  const p = mapGet(waiting, id);
  mapDelete(waiting, id);
  if (p === undefined) return ['invalid', 'no such request', null, drainLogs(), undefined];
  return promiseThen(p, (/** @type {RawResult} */ r) => {
    mapSet(settledResults, id, r);
    return [r[0], r[1], r[2], drainLogs(), r[3]];
  });
}

/**
 * The result of a request as it leaves the isolate: `memory` when the containment refused an
 * allocation over the budget while it ran, whatever the handler made of the error.
 * @template {RawResult | null} R
 * @param {R} r
 * @returns {R | RawResult}
 */
function checked(r) {
  const why = takeMemoryOverrun();
  return why === '' ? r : ['memory', why, null];
}

/** The descriptor of each request's `datastream` (its `value` set for the call): one object, not one per request. */
const DATASTREAM = nd({ value: undefined, writable: true, enumerable: true, configurable: true });

/**
 * Calls the handler for one request: its result now, or null when it returned a thenable (then in `waiting`).
 * @param {string} requestJson
 * @param {number} id
 * @param {Uint8Array} first
 * @param {boolean} complete
 * @param {string | null} text
 * @returns {RawResult | null}
 */
function start(requestJson, id, first, complete, text) {
  const request = parse(requestJson);
  DATASTREAM.value = makeDatastream(id, first, complete, text);
  I.defineProperty(request, 'datastream', DATASTREAM);
  DATASTREAM.value = undefined;
  let res;
  const ctx = context(id);
  // Console lines written from here until the handler returns are this request's.
  setConsoleTag(id);
  try {
    res = FETCH ? callFetch(/** @type {Record<string, any>} */ (request), ctx) : handler(request, ENV, ctx);
    // A thenable (what `await` would wait for) is settled later; anything else is the response now.
    if (res !== null && (typeof res === 'object' || typeof res === 'function') && typeof (/** @type {{ then?: unknown }} */ (res).then) === 'function') {
      mapSet(waiting, id, settle(res, id, request));
      return checked(null);
    }
    return withBackground(checked(finish(res, request, id)), id);
  } catch (e) {
    return withBackground(checked(thrown(e)), id);
  } finally {
    setConsoleTag(0);
  }
}

// Work handed to `waitUntil`, by request id: awaited after the response (streamOp 2), within the
// server's waitUntilMs; the host ends the request then, whatever is still pending.
/** @type {Map<number, unknown[]>} */
const background = new I.Map();

/**
 * The handler's third argument: `waitUntil(promise)` keeps work going after the response (both
 * handler forms), `passThroughOnException()` does nothing here (there is no origin to fall back to).
 * @param {number} id
 */
function context(id) {
  return freeze(
    bare({
      waitUntil: (/** @type {unknown} */ p) => {
        let later = mapGet(background, id);
        if (later === undefined) mapSet(background, id, (later = bare([])));
        // Handled at once (a rejection is not left for the unhandled-rejection report): each entry
        // settles to null or to what its rejection said.
        later[later.length] = promiseThen(promised(p), toNull, describe);
      },
      passThroughOnException: noop,
    }),
  );
}

/**
 * `r` with the flag that tells the host some waitUntil work of request `id` is pending.
 * @template {RawResult | null} R
 * @param {R} r
 * @param {number} id
 * @returns {R}
 */
function withBackground(r, id) {
  if (r !== null && mapGet(background, id) !== undefined) r[3] = 1;
  return r;
}

const noop = () => undefined;
const toNull = () => null;

/**
 * Calls the Workers-form handler with a Request of the request dict (url from its Host, the method,
 * the headers; the body read from its datastream on first use), the env and a ctx.
 * @param {Record<string, any>} request
 * @param {unknown} ctx
 * @returns {unknown}
 */
function callFetch(request, ctx) {
  const headers = request.headers;
  let host = 'localhost';
  const names = keys(headers);
  for (let i = 0; i < names.length; i++) if (lower(names[i]) === 'host') host = headers[names[i]];
  const url = 'http://' + host + request.path + (request.querystr === null ? '' : '?' + request.querystr);
  const ds = request.datastream;
  const req = incomingRequest(url, request.verb, headers, () => ds.read());
  return apply(fetchHandler, exported, [req, ENV, ctx]);
}

/**
 * What leaves the isolate for a handler's result: the response dict serialized; for a `fetch`
 * handler, the dict of the Response it returned (read from the prelude's own state), or why it is
 * not one.
 * @param {unknown} res
 * @param {Record<string, any>} request
 * @param {number} id the request's (a streamed body is kept under it)
 * @returns {RawResult}
 */
function finish(res, request, id) {
  if (!FETCH) return serialize(res, id, null);
  const parts = responseParts(res);
  if (parts === null) return ['invalid', 'a fetch handler must return a Response (or a promise of one) whose body was not read, got ' + kindOf(res), null];
  /** @type {Record<string, string>} */
  const headers = bare({});
  for (let i = 0; i < parts.headers.length; i++) {
    const n = parts.headers[i][0];
    const v = parts.headers[i][1];
    headers[n] = headers[n] === undefined ? v : headers[n] + ', ' + v;
  }
  /** @type {Record<string, unknown>} */
  const dict = bare({ version: request.version === '0.9' ? '1.0' : request.version, statuscode: parts.status, headers, message: parts.stream === null ? parts.body : STREAMED });
  if (parts.statusText !== '') dict.statusmsg = parts.statusText;
  return serialize(dict, id, parts.stream);
}

/**
 * @param {unknown} p a thenable
 * @param {number} id the request's id (its console lines while its response is serialized are its own)
 * @param {Record<string, any>} request its request dict (a `fetch` handler's Response takes its version)
 * @returns {Promise<RawResult>}
 */
async function settle(p, id, request) {
  let res;
  try {
    res = await p;
  } catch (e) {
    return withBackground(checked(thrown(e)), id);
  }
  setConsoleTag(id);
  try {
    return withBackground(checked(finish(res, request, id)), id);
  } finally {
    setConsoleTag(0);
  }
}

/**
 * Why the response's headers are over maxResponseHeaderFields or maxResponseHeaderBytes, or '' (the
 * host checks again; this check only keeps a flood from being serialized at all).
 * @param {unknown} headers
 * @returns {string}
 */
function headersOverLimit(headers) {
  if (headers === null || typeof headers !== 'object') return '';
  const names = keys(headers);
  if (names.length > MAX_FIELDS) return 'more than ' + MAX_FIELDS + ' header fields (maxResponseHeaderFields)';
  let bytes = 0;
  for (let i = 0; i < names.length; i++) {
    const v = /** @type {Record<string, unknown>} */ (headers)[names[i]];
    bytes += names[i].length + 4 + (typeof v === 'string' ? v.length : typeof v === 'number' ? str(v).length : 0);
    if (bytes > MAX_HEADER_BYTES) return 'header section is larger than ' + MAX_HEADER_BYTES + ' bytes (maxResponseHeaderBytes)';
  }
  return '';
}

/** The message of a fetch handler's dict whose Response body is a stream (never seen by tenant code). */
const STREAMED = freeze(bare({}));

/**
 * The iterator of a streamed message: a trusted one over a ReadableStream made by the prelude, else
 * the message's own `[Symbol.asyncIterator]()` or `[Symbol.iterator]()` (tenant code, run here under
 * the request's time limit); null when the message is not iterable.
 * @param {unknown} message
 * @returns {{ it: object, next: unknown } | null}
 */
function openIterator(message) {
  // A typed array other than a Uint8Array is not a stream of chunks (its elements are numbers): invalid, as before.
  if (isView(message)) return null;
  const trusted = streamIterator(message);
  if (trusted !== null) return bare({ it: trusted, next: trusted.next });
  const m = /** @type {Record<symbol, unknown>} */ (message);
  const method = m[asyncIterator] !== undefined && m[asyncIterator] !== null ? m[asyncIterator] : m[iterator];
  if (typeof method !== 'function') return null;
  const it = apply(method, message, []);
  if (it === null || (typeof it !== 'object' && typeof it !== 'function')) throw new I.TypeError("the message's iterator is not an object");
  return bare({ it, next: /** @type {{ next?: unknown }} */ (it).next });
}

/**
 * The response as JSON with its `message` apart (a string as it is, a Uint8Array as a fresh copy),
 * or, for an iterable message, the JSON alone (kind `stream`, its iterator kept for `streamOp`), or
 * why it is not one.
 * @param {unknown} res
 * @param {number} id the request's
 * @param {{ next(): Promise<unknown>, return(): Promise<unknown> } | null} trusted a Response body stream's iterator (a fetch handler's)
 * @returns {RawResult}
 */
function serialize(res, id, trusted) {
  try {
    if (res === null || typeof res !== 'object' || isArray(res)) return ['invalid', 'response must be an object, got ' + kindOf(res), null];
    const over = headersOverLimit(/** @type {{ headers?: unknown }} */ (res).headers);
    if (over !== '') return ['invalid', over, null];
    // The message is read once and leaves beside the JSON of the other fields (which carries
    // `message: ""`), never escaped into it: a binary one as a fresh copy, a string as it is.
    const message = /** @type {{ message?: unknown }} */ (res).message;
    const beside = isU8(message) ? new U8(message) : typeof message === 'string' ? message : null;
    const source = trusted !== null ? bare({ it: trusted, next: trusted.next }) : beside === null && message !== null && typeof message === 'object' ? openIterator(message) : null;
    const json =
      beside === null && source === null
        ? stringify(res)
        : stringify(res, function (k, v) {
            return this === res && k === 'message' ? '' : v;
          });
    if (typeof json !== 'string') return ['invalid', 'response could not be serialized', null];
    if (source !== null) {
      if (json.length > MAX) return ['invalid', 'response is larger than maxResponseBytes (' + MAX + ' bytes)', null];
      if (typeof source.next !== 'function') return ['invalid', "the message's iterator has no next method", null];
      mapSet(streams, id, bare({ it: source.it, next: source.next, bytes: json.length, failed: null }));
      return ['stream', json, null];
    }
    if (json.length + (beside === null ? 0 : typeof beside === 'string' ? beside.length : u8Length(beside)) > MAX)
      return ['invalid', 'response is larger than maxResponseBytes (' + MAX + ' bytes)', null];
    return ['ok', json, beside];
  } catch (e) {
    return ['invalid', 'response could not be serialized: ' + describe(e), null];
  }
}

// After a call whose results were ready but which isolated-vm failed with an unhandled rejection
// left at its microtask checkpoint, the host takes them here (src/sandbox/batch-scheduler.ts).
/** @type {Array<RawResult | null> | null} */
let last = null;
/**
 * Awaited requests' results, kept until the host has them: taken by `takeSettled`, or dropped when
 * the next batch names them as received (without that, every async handler's result stayed here
 * for the isolate's life, and its heap grew until the memory limit replaced it).
 * @type {Map<number, RawResult>}
 */
const settledResults = new I.Map();

/**
 * The results of the last batch that completed, once (then null), and the console lines since.
 * @returns {[Array<RawResult | null> | null, ConsoleLine[]]}
 */
export function takeLast() {
  const out = last;
  last = null;
  return [out, drainLogs()];
}

/**
 * The settled result of awaited request `id`, once (then null), and the console lines since.
 * @param {number} id
 * @returns {[RawResult | null, ConsoleLine[]]}
 */
export function takeSettled(id) {
  const r = mapGet(settledResults, id);
  mapDelete(settledResults, id);
  return [r === undefined ? null : r, drainLogs()];
}

// Streamed messages whose head has left, by request id: the iterator, its `next` (read once, as
// `for await` does) and the bytes counted so far (the head's JSON included, against maxResponseBytes).
/** @type {Map<number, { it: object, next: Function, bytes: number, failed: RawResult | null }>} */
const streams = new I.Map();

/**
 * Most bytes one pull gathers from chunks that are ready at once (a sync iterator's) before
 * returning: what a stalled client can make the worker hold, beside the sockets' buffers. Measured
 * (a 1 MiB body of 64 KiB chunks, bench scenario 9): 64 KiB gave 0.20–0.35× node:http, 256 KiB 0.44–0.86×.
 */
const PULL_BYTES = 262144;
/** Most chunks one pull gathers. */
const PULL_CHUNKS = 256;

/**
 * What a thenable or a value settles to, without a promise when it is not a thenable.
 * @param {unknown} v
 * @returns {boolean}
 */
function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (/** @type {{ then?: unknown }} */ (v).then) === 'function';
}

/**
 * The next chunks of request `id`'s streamed message: `['more' | 'end', '', chunks, logs]` (chunks:
 * strings and fresh Uint8Arrays, none empty), or `[kind, reason, null, logs]` when the iterator threw
 * (`exception`), yielded something else (`invalid`) or the containment refused memory (`memory`).
 * Chunks ready at once (a sync iterator, or a ReadableStream's queue) are gathered up to
 * PULL_BYTES; after a chunk that had to be awaited, the pull returns at once, so the host writes it.
 * @param {number} id
 */
function pullStream(id) {
  const s = mapGet(streams, id);
  if (s === undefined) return bare(['end', '', bare([]), drainLogs()]);
  // A failure met after chunks that were ready: those went first, the failure now.
  if (s.failed !== null) {
    const f = s.failed;
    mapDelete(streams, id);
    return bare([f[0], f[1], null, drainLogs()]);
  }
  /** @type {Array<string | Uint8Array>} */
  const chunks = bare([]);
  let gathered = 0;
  /** @param {RawResult} r */
  const out = (r) => {
    let c = checked(r);
    if ((c[0] === 'invalid' || c[0] === 'exception') && chunks.length > 0 && s.bytes <= MAX) {
      s.failed = c;
      c = ['more', '', null];
    }
    if (c[0] !== 'more') mapDelete(streams, id);
    return bare([c[0], c[1], c[0] === 'more' || c[0] === 'end' ? chunks : null, drainLogs()]);
  };
  /** Why a chunk is refused (not a string or bytes, or over maxResponseBytes): an invalid response, not the handler's exception. */
  let bad = '';
  /**
   * Takes one iterator result; true at the end (or at a refused chunk, `bad` set).
   * @param {unknown} r
   */
  const take = (r) => {
    if (r === null || typeof r !== 'object') throw new I.TypeError('the message iterator returned ' + kindOf(r) + ', not an iterator result object');
    if (/** @type {{ done?: unknown }} */ (r).done) return true;
    const v = /** @type {{ value?: unknown }} */ (r).value;
    let n;
    if (typeof v === 'string') {
      n = v.length;
      if (n > 0) chunks[chunks.length] = v;
    } else if (isU8(v)) {
      n = u8Length(v);
      if (n > 0) chunks[chunks.length] = wholeBuffer(v) ? v : new U8(v);
    } else {
      bad = 'a streamed chunk must be a string or a Uint8Array, got ' + kindOf(v);
      return true;
    }
    gathered += n;
    s.bytes += n;
    if (s.bytes > MAX) bad = 'streamed response is larger than maxResponseBytes (' + MAX + ' bytes)';
    return bad !== '';
  };
  /** @returns {RawResult} */
  const ended = () => (bad === '' ? ['end', '', null] : ['invalid', bad, null]);
  /** @param {unknown} e @returns {RawResult} */
  const failed = (e) => thrown(e);
  /** @returns {unknown} */
  const step = () => {
    for (;;) {
      const r = apply(s.next, s.it, []);
      if (isThenable(r)) {
        return promiseThen(
          promised(r),
          (/** @type {unknown} */ v) => {
            try {
              return take(v) ? out(ended()) : chunks.length > 0 ? out(['more', '', null]) : step();
            } catch (e) {
              return out(failed(e));
            }
          },
          (/** @type {unknown} */ e) => out(failed(e)),
        );
      }
      if (take(r)) return out(ended());
      if (gathered >= PULL_BYTES || chunks.length >= PULL_CHUNKS) return out(['more', '', null]);
    }
  };
  setConsoleTag(id);
  try {
    return step();
  } catch (e) {
    return out(failed(e));
  } finally {
    setConsoleTag(0);
  }
}

/**
 * Whether `v` is a view of all of a fixed-length ArrayBuffer: copied out as it is (the copy out
 * copies a view's whole buffer, so any other view is copied to a buffer of its own first).
 * @param {Uint8Array} v
 */
function wholeBuffer(v) {
  try {
    const b = u8Buffer(v);
    return u8Offset(v) === 0 && abByteLength(b) === u8Length(v) && !abResizable(b);
  } catch (_) {
    // not an ArrayBuffer (a SharedArrayBuffer has other accessors): copied
    return false;
  }
}

/**
 * A promise of what thenable `v` settles to (its `then` called once, as `await` would).
 * @param {unknown} v
 * @returns {Promise<unknown>}
 */
function promised(v) {
  return new I.Promise((resolve) => resolve(v));
}

/**
 * Closes request `id`'s streamed message early (the client went away, a HEAD, a time limit): its
 * iterator's `return()` runs, under the host's time limit for the call; what it throws is dropped.
 * @param {number} id
 */
function cancel(id) {
  const s = mapGet(streams, id);
  mapDelete(streams, id);
  if (s === undefined) return null;
  try {
    const ret = /** @type {{ return?: unknown }} */ (s.it).return;
    if (typeof ret !== 'function') return null;
    const r = apply(ret, s.it, []);
    if (isThenable(r))
      return promiseThen(
        promised(r),
        () => null,
        () => null,
      );
  } catch (_) {
    // the stream is dropped all the same
  }
  return null;
}

/**
 * Awaits the work request `id`'s handler gave `waitUntil` (more may be added meanwhile): resolves
 * `[failures, logs]` once every promise settled (failures: what the rejected ones said, for the
 * tenant's log). The host stops waiting at waitUntilMs.
 * @param {number} id
 */
function awaitBackground(id) {
  const later = mapGet(background, id);
  if (later === undefined) return bare([bare([]), drainLogs()]);
  /** @type {string[]} */
  const failures = bare([]);
  let i = 0;
  const next = () => {
    if (i >= later.length) {
      mapDelete(background, id);
      return bare([failures, drainLogs()]);
    }
    return promiseThen(later[i++], (/** @type {string | null} */ failure) => {
      if (failure !== null && failures.length < 10) failures[failures.length] = failure;
      return next();
    });
  };
  return next();
}

/** streamOp's operations. */
const STREAM_PULL = 0;
const STREAM_CANCEL = 1;
const STREAM_BACKGROUND = 2;
const STREAM_FORGET = 3;

/**
 * The host's one entry for what outlives a request's result: pull a streamed message (0), close it
 * (1), await its waitUntil work (2), or forget both (3: the host stopped waiting, at waitUntilMs or a time limit).
 * @param {unknown} op
 * @param {unknown} id
 */
export function streamOp(op, id) {
  const n = /** @type {number} */ (id);
  if (op === STREAM_PULL) return pullStream(n);
  if (op === STREAM_CANCEL) return cancel(n);
  if (op === STREAM_BACKGROUND) return awaitBackground(n);
  if (op === STREAM_FORGET) {
    mapDelete(background, n);
    mapDelete(streams, n);
  }
  return null;
}
