// The tenant's outbound fetch(input, init): plain data (URL, method, header pairs as JSON, body bytes) goes to the host (src/sandbox/outbound-host.ts), which performs the request under the server's egress policy; its answer comes back as plain data and becomes a Response.
// @ts-check

import { fetchedResponse, outgoingParts } from './fetch-api.js';

/** @typedef {{ apply(self: undefined, args: unknown[], opts: object): Promise<unknown> }} FetchReference */

const NativePromise = Promise;
const then = Function.prototype.call.bind(Promise.prototype.then);
const TypeErr = TypeError;
const isArray = Array.isArray;
const stringify = JSON.stringify;
const setProto = Reflect.setPrototypeOf;

/** @type {FetchReference | null} */
let host = null;

/**
 * The host's fetch function, once per isolate (by the bootstrap; later calls change nothing).
 * @param {unknown} ref
 */
export function setFetchHost(ref) {
  if (host === null) host = /** @type {FetchReference} */ (ref);
}

/**
 * `o` without a prototype (isolated-vm reads these options with [[Get]]).
 * @template {object} T
 * @param {T} o
 * @returns {T}
 */
const bare = (o) => {
  setProto(o, null);
  return o;
};

/**
 * WHATWG-shaped fetch: `input` a URL string (or URL) or a Request, `init` `{ method, headers, body }`;
 * resolves with a Response (status, statusText, headers, url, redirected, text(), json(),
 * arrayBuffer(), bytes()), or rejects with a TypeError saying why (refused by the egress policy,
 * a limit reached, the network).
 * @param {unknown} input
 * @param {unknown} [init]
 * @returns {Promise<unknown>}
 */
export function fetch(input, init) {
  return new NativePromise((resolve, reject) => {
    const ref = host;
    if (ref === null) throw new TypeErr('fetch is not available here');
    const parts = outgoingParts(input, init);
    const call = ref.apply(undefined, [parts.url, parts.method, stringify(parts.headers), parts.body], bare({ arguments: bare({ copy: true }), result: bare({ promise: true, copy: true }) }));
    then(
      call,
      (/** @type {unknown} */ a) => {
        if (!isArray(a)) return reject(new TypeErr('fetch failed'));
        if (a[0] === 0) return resolve(fetchedResponse(a[1], a[2], a[3], a[4], a[5], a[6]));
        reject(new TypeErr(`${a[1]}`));
      },
      () => reject(new TypeErr('fetch failed')),
    );
  });
}
