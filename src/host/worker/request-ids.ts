// The id of each request to a tenant server: the client's `x-request-id` when it is a sane token, else this worker's prefix and a counter (no randomness per request: this is the hot path).

import { randomBytes } from 'node:crypto';
import { isSaneRequestId, REQUEST_ID_HEADER } from '../../core/request-id.js';

/** Random per worker process (48 bits, hex), so ids from two workers or two generations never collide in practice. */
const PREFIX = `${randomBytes(6).toString('hex')}-`;
let counter = 0;

/** A fresh id: `<worker prefix>-<counter in base 36>`, e.g. `3f2a9c1b7e4d-1k`. */
export function freshRequestId(): string {
  counter++;
  return PREFIX + counter.toString(36);
}

/**
 * The id of a request with these header fields: the first `x-request-id` field's value when it is
 * a sane token (src/core/request-id.ts), else a fresh one.
 * @param fields the request's header fields as received, `[name, value]`
 */
export function requestIdOf(fields: ReadonlyArray<readonly [string, string]>): string {
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as readonly [string, string];
    const name = field[0];
    if (name.length === REQUEST_ID_HEADER.length && name.toLowerCase() === REQUEST_ID_HEADER) {
      return isSaneRequestId(field[1]) ? field[1] : freshRequestId();
    }
  }
  return freshRequestId();
}
