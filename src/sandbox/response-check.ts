// Validates what a handler returned (JSON made inside the isolate) against schemas/response-dict.json.

import type { Limits } from '../core/limits.js';
import type { HttpVersion, ValidResponse } from '../core/response.js';
import { formatAjvError, validator } from '../core/schemas.js';

export type { ValidResponse };

interface ResponseDictJson {
  version: HttpVersion;
  statuscode: number;
  statusmsg?: string;
  headers: Record<string, string | number>;
  message: string;
}

/** Either a valid response or the reason it is not, naming the failing field. */
export type CheckResult = { readonly ok: true; readonly response: ValidResponse } | { readonly ok: false; readonly reason: string };

/** The limits a response is checked against (declared in schemas/limits.json). */
export type ResponseLimits = Pick<Limits, 'maxResponseBytes' | 'maxResponseHeaderFields' | 'maxResponseHeaderBytes'>;

/**
 * Why `headers` (as parsed) has more fields or bytes than allowed, or null. Stops at the first field
 * over a limit, so it costs at most what the limits allow, whatever a tenant sends.
 */
function headersOverLimit(headers: unknown, limits: ResponseLimits): string | null {
  if (headers === null || typeof headers !== 'object') return null;
  let fields = 0;
  let bytes = 0;
  for (const name in headers) {
    if (++fields > limits.maxResponseHeaderFields) return `more than ${limits.maxResponseHeaderFields} header fields (maxResponseHeaderFields)`;
    const v: unknown = (headers as Record<string, unknown>)[name];
    bytes += name.length + 4 + (typeof v === 'string' ? v.length : typeof v === 'number' ? String(v).length : 0);
    if (bytes > limits.maxResponseHeaderBytes) return `header section is larger than ${limits.maxResponseHeaderBytes} bytes (maxResponseHeaderBytes)`;
  }
  return null;
}

/**
 * Parses and validates a serialized response dict. `message`, when not null, is the message sent
 * beside the JSON (which then carries `message: ""`): a string, or a Uint8Array for a binary one;
 * anything else there is refused. JSON.parse
 * gives `__proto__` keys as plain own properties, so no key a tenant returns can change a
 * prototype in the host. The size and header limits are checked before the schema, so validation
 * costs time proportional to what the limits allow.
 */
export function checkResponse(json: unknown, message: unknown, limits: ResponseLimits): CheckResult {
  const { maxResponseBytes } = limits;
  if (typeof json !== 'string') return { ok: false, reason: 'response is not serializable' };
  if (message !== null && typeof message !== 'string' && !(message instanceof Uint8Array)) return { ok: false, reason: 'a binary message must be a Uint8Array' };
  const bytes = message instanceof Uint8Array ? message : null;
  const text = typeof message === 'string' ? message : null;
  if (json.length + (bytes?.byteLength ?? text?.length ?? 0) > maxResponseBytes) {
    return { ok: false, reason: `response is larger than maxResponseBytes (${maxResponseBytes} bytes)` };
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'response is not serializable' };
  }
  const over = headersOverLimit((value as { headers?: unknown } | null)?.headers, limits);
  if (over !== null) return { ok: false, reason: over };
  const validate = validator<ResponseDictJson>('response-dict');
  if (!validate(value)) return { ok: false, reason: formatAjvError(validate.errors, 'response') };
  const body = bytes ?? Buffer.from(text ?? value.message, 'utf8');
  if (Buffer.byteLength(json) + (message === null ? 0 : body.byteLength) > maxResponseBytes) {
    return { ok: false, reason: `response is larger than maxResponseBytes (${maxResponseBytes} bytes)` };
  }
  return {
    ok: true,
    response: { version: value.version, statuscode: value.statuscode, statusmsg: value.statusmsg, headers: value.headers, body },
  };
}
