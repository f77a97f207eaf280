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
// - `drainLogs()`: the console lines written since the last drain (after module evaluation).
//
// Everything here runs under the request's time limit, serialization included, so getters and
// proxies in a response only ever spend the tenant's own time. Only strings and a fresh
// Uint8Array leave the isolate. This module's body runs after the tenant's module, so it takes
// every intrinsic it uses from the prelude (`I`, captured before any tenant code ran) and calls no
// method through a prototype or global the tenant can replace: a tenant that tampers with its own
// globals can only break its own responses, which the host validates by type anyway.

import { MAX_RESPONSE_BYTES as MAX, MAX_RESPONSE_HEADER_BYTES as MAX_HEADER_BYTES, MAX_RESPONSE_HEADER_FIELDS as MAX_FIELDS } from 'isohttpd:constants';
import { bare, drainLogs, forgetTimers, I, incomingRequest, nd, responseParts, setConsoleTag, setFetchHost, setTimerHost, takeMemoryOverrun, utf8Decode } from './prelude/index.js';
import * as tenant from 'tenant';

// The default export: a handler function (the request dict form), or an object with a `fetch`
// method (the Workers form: `fetch(request, env, ctx)` returning a Response). Read once, here.
const exported = /** @type {unknown} */ (tenant.default);
const fetchMethod = exported !== null && typeof exported === 'object' ? /** @type {{ fetch?: unknown }} */ (exported).fetch : undefined;
const handler = /** @type {(request: unknown, env: unknown) => unknown} */ (exported);
const fetchHandler = /** @type {(request: unknown, env: unknown, ctx: unknown) => unknown} */ (fetchMethod);
/** "function" or "fetch": the host refuses any other. */
export const handlerType =
  typeof exported === 'function' ? 'function' : typeof fetchMethod === 'function' ? 'fetch' : exported !== null && typeof exported === 'object' ? 'an object without a fetch method' : typeof exported;
const FETCH = handlerType === 'fetch';

const { U8, parse, stringify, freeze, isArray, floor, isU8, u8Buffer, u8Length, u8Offset, u8Set, mapGet, mapSet, mapDelete, promiseThen, asyncIterator, stringSlice, keys, str, apply, lower } = I;

/** @typedef {[kind: 'ok' | 'exception' | 'invalid' | 'memory', text: string, message: Uint8Array | string | null]} RawResult */
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
 * @returns {[...RawResult, ConsoleLine[]] | Promise<[...RawResult, ConsoleLine[]]>}
 */
export function awaitResult(id) {
  const p = mapGet(waiting, id);
  mapDelete(waiting, id);
  if (p === undefined) return ['invalid', 'no such request', null, drainLogs()];
  return promiseThen(p, (/** @type {RawResult} */ r) => {
    mapSet(settledResults, id, r);
    return [r[0], r[1], r[2], drainLogs()];
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
  // Console lines written from here until the handler returns are this request's.
  setConsoleTag(id);
  try {
    res = FETCH ? callFetch(/** @type {Record<string, any>} */ (request)) : handler(request, ENV);
    // A thenable (what `await` would wait for) is settled later; anything else is the response now.
    if (res !== null && (typeof res === 'object' || typeof res === 'function') && typeof (/** @type {{ then?: unknown }} */ (res).then) === 'function') {
      mapSet(waiting, id, settle(res, id, request));
      return checked(null);
    }
    return checked(finish(res, request));
  } catch (e) {
    return checked(thrown(e));
  } finally {
    setConsoleTag(0);
  }
}

/** What a `fetch` handler's ctx offers: `waitUntil` (its promises are awaited before the response is sent, within the request's time limit) and `passThroughOnException` (nothing to pass through to here). */
const noop = () => undefined;

/**
 * Calls the Workers-form handler with a Request of the request dict (url from its Host, the method,
 * the headers; the body read from its datastream on first use), the env and a ctx.
 * @param {Record<string, any>} request
 * @returns {unknown}
 */
function callFetch(request) {
  const headers = request.headers;
  let host = 'localhost';
  const names = keys(headers);
  for (let i = 0; i < names.length; i++) if (lower(names[i]) === 'host') host = headers[names[i]];
  const url = 'http://' + host + request.path + (request.querystr === null ? '' : '?' + request.querystr);
  const ds = request.datastream;
  const req = incomingRequest(url, request.verb, headers, () => ds.read());
  /** @type {unknown[]} */
  const later = bare([]);
  const ctx = freeze(
    bare({
      waitUntil: (/** @type {unknown} */ p) => {
        later[later.length] = p;
      },
      passThroughOnException: noop,
    }),
  );
  const res = apply(fetchHandler, exported, [req, ENV, ctx]);
  return later.length === 0 ? res : afterWaitUntil(res, later);
}

/**
 * The handler's result once the work handed to `ctx.waitUntil` is done too: it finishes before the
 * response is sent (there is no "after the response" here yet), within the request's time limit; a
 * rejected one does not fail the response (as on Workers).
 * @param {unknown} res
 * @param {unknown[]} later
 */
async function afterWaitUntil(res, later) {
  const out = await res;
  for (let i = 0; i < later.length; i++) {
    try {
      await later[i];
    } catch (_) {
      // as on Workers: the response stands
    }
  }
  return out;
}

/**
 * What leaves the isolate for a handler's result: the response dict serialized; for a `fetch`
 * handler, the dict of the Response it returned (read from the prelude's own state), or why it is
 * not one.
 * @param {unknown} res
 * @param {Record<string, any>} request
 * @returns {RawResult}
 */
function finish(res, request) {
  if (!FETCH) return serialize(res);
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
  const dict = bare({ version: request.version === '0.9' ? '1.0' : request.version, statuscode: parts.status, headers, message: parts.body });
  if (parts.statusText !== '') dict.statusmsg = parts.statusText;
  return serialize(dict);
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
    return checked(thrown(e));
  }
  setConsoleTag(id);
  try {
    return checked(finish(res, request));
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

/**
 * The response as JSON with its `message` apart (a string as it is, a Uint8Array as a fresh copy), or why it is not one.
 * @param {unknown} res
 * @returns {RawResult}
 */
function serialize(res) {
  try {
    if (res === null || typeof res !== 'object' || isArray(res)) return ['invalid', 'response must be an object, got ' + kindOf(res), null];
    const over = headersOverLimit(/** @type {{ headers?: unknown }} */ (res).headers);
    if (over !== '') return ['invalid', over, null];
    // The message is read once and leaves beside the JSON of the other fields (which carries
    // `message: ""`), never escaped into it: a binary one as a fresh copy, a string as it is.
    const message = /** @type {{ message?: unknown }} */ (res).message;
    const beside = isU8(message) ? new U8(message) : typeof message === 'string' ? message : null;
    const json =
      beside === null
        ? stringify(res)
        : stringify(res, function (k, v) {
            return this === res && k === 'message' ? '' : v;
          });
    if (typeof json !== 'string') return ['invalid', 'response could not be serialized', null];
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
