// How a request to a tenant handler ended: one closed union used by logs, counters and responses.

import type { ErrorCode } from './errors.js';

/** Every way a handler invocation can end. Closed: add a member only with its status and code. */
export const OUTCOMES = ['ok', 'exception', 'timeout', 'memory', 'invalidResponse', 'crashed'] as const;

/** How a handler invocation ended. */
export type Outcome = (typeof OUTCOMES)[number];

/** The error code (and so the HTTP status) for each outcome other than `ok`. */
export const OUTCOME_ERROR: Readonly<Record<Exclude<Outcome, 'ok'>, ErrorCode>> = Object.freeze({
  exception: 'ISO_ERR_SBX_EXCEPTION',
  timeout: 'ISO_ERR_SBX_TIMEOUT',
  memory: 'ISO_ERR_SBX_MEMORY',
  invalidResponse: 'ISO_ERR_SBX_INVALID_RESPONSE',
  crashed: 'ISO_ERR_SBX_CRASHED',
});
