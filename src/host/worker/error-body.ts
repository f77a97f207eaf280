// What a client is told when a request to a handler did not end ok: a fixed text naming the outcome and the request id; the handler's detail only for a server with `exposeErrors`.

import type { Outcome } from '../../core/outcome.js';

/** The client's text for the outcomes whose detail may hold the tenant's own words (a message, a reason). */
const GENERIC: Readonly<Partial<Record<Exclude<Outcome, 'ok'>, string>>> = Object.freeze({
  exception: 'the handler raised an exception',
  invalidResponse: 'the handler returned an invalid response',
  timeout: 'the handler exceeded its time limit',
});

/** Most characters of a detail shown to a client, so that the request id after it survives the body's cap (1024). */
const MAX_SHOWN_DETAIL = 850;

/**
 * The text body of an error answer: `<what happened> (request id <id>)`. `exception`,
 * `invalidResponse` and `timeout` get a fixed text unless `expose` (the server's `exposeErrors`);
 * `memory` and `crashed` get their detail, the service's own text.
 * @param detail the result's detail (src/sandbox/ivm-outcome.ts)
 */
export function errorBody(outcome: Exclude<Outcome, 'ok'>, detail: string, requestId: string, expose: boolean): string {
  const generic = GENERIC[outcome];
  const text = generic === undefined || expose ? (detail.length > MAX_SHOWN_DETAIL ? `${detail.slice(0, MAX_SHOWN_DETAIL)}...` : detail) : generic;
  return `${text} (request id ${requestId})`;
}
