// The prelude: the first guest module evaluated in every isolate, before any tenant code; it installs the globals tenant code may use (console, TextEncoder/TextDecoder, atob/btoa, URLSearchParams, URL, Headers/Request/Response, ReadableStream, fetch) and the chunked Array.prototype.fill.
// @ts-check

// Every part captures the intrinsics it uses when it is evaluated, which is before this module's
// body runs and before the tenant's module is evaluated. Nothing here is a host object.
import { fill } from './array-fill.js';
import { atob, btoa } from './base64.js';
import { createConsole, drainLogs, setConsoleTag } from './console.js';
import { installContainment, takeMemoryOverrun } from './containment.js';
import { TextDecoder, TextEncoder, utf8Decode } from './encoding.js';
import { Headers, incomingRequest, Request, Response, responseParts } from './fetch-api.js';
import { fetch, setFetchHost } from './outbound-fetch.js';
import { installRegExpLimit } from './regexp-source.js';
import { ReadableStream, ReadableStreamDefaultController, ReadableStreamDefaultReader, streamIterator } from './streams.js';
import { clearTimeout, forgetTimers, setTimeout, setTimerHost } from './timers.js';
import { bare, I, nd } from './intrinsics.js';
import { setUrlLoader, URL } from './url.js';
import { URLSearchParams } from './url-search-params.js';

// drainLogs, forgetTimers, incomingRequest, responseParts, setConsoleTag, setFetchHost, setTimerHost, streamIterator, utf8Decode, I, nd, bare and takeMemoryOverrun: for the bootstrap; setUrlLoader: for the host, once (see src/sandbox/url-loader.ts).
export { bare, drainLogs, forgetTimers, I, incomingRequest, nd, responseParts, setConsoleTag, setFetchHost, setTimerHost, setUrlLoader, streamIterator, takeMemoryOverrun, utf8Decode };

const resolved = Promise.resolve();
const then = Function.prototype.call.bind(Promise.prototype.then);
const TypeErr = TypeError;

/**
 * HTML's queueMicrotask: `fn` runs at the next microtask checkpoint, which is inside the call into
 * the isolate that queued it (a request's, under its time limit), never after it. An exception
 * it throws is reported like an unhandled rejection (a console line).
 * @param {unknown} fn
 */
function queueMicrotask(fn) {
  if (typeof fn !== 'function') throw new TypeErr("Failed to execute 'queueMicrotask': the callback provided as parameter 1 is not a function");
  then(resolved, () => fn());
}

/**
 * A global as the platform defines its own: writable, configurable, not enumerable.
 * @param {string} name
 * @param {unknown} value
 */
const define = (name, value) => Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });

// The tenant may replace it, which affects only itself.
Object.defineProperty(Array.prototype, 'fill', { value: fill, writable: true, enumerable: false, configurable: true });

define('console', createConsole());
define('URL', URL);
define('URLSearchParams', URLSearchParams);
define('TextEncoder', TextEncoder);
define('TextDecoder', TextDecoder);
define('btoa', btoa);
define('Headers', Headers);
define('Request', Request);
define('Response', Response);
define('ReadableStream', ReadableStream);
define('ReadableStreamDefaultReader', ReadableStreamDefaultReader);
define('ReadableStreamDefaultController', ReadableStreamDefaultController);
define('fetch', fetch);
define('queueMicrotask', queueMicrotask);
define('setTimeout', setTimeout);
define('clearTimeout', clearTimeout);
define('atob', atob);

// RegExp sources held to the budget (the RegExp compiler's memory is outside the heap: regexp-source.js).
installRegExpLimit(globalThis);

// Last: wasm memories and resizable buffers held to the budget, no SharedArrayBuffer, no V8 tasks that run tenant code (containment.js).
installContainment(globalThis);
