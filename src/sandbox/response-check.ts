// Validates what a handler returned (JSON made inside the isolate) against schemas/response-dict.json.

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

/**
 * Parses and validates a serialized response dict. `bytes`, when not null, is a binary message
 * (the JSON then carries `message: ""`). JSON.parse gives `__proto__` keys as plain own
 * properties, so no key a tenant returns can change a prototype in the host.
 */
export function checkResponse(json: string, bytes: Uint8Array | null, maxResponseBytes: number): CheckResult {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'response is not serializable' };
  }
  const validate = validator<ResponseDictJson>('response-dict');
  if (!validate(value)) return { ok: false, reason: formatAjvError(validate.errors, 'response') };
  const body = bytes ?? Buffer.from(value.message, 'utf8');
  if (Buffer.byteLength(json) + (bytes?.byteLength ?? 0) > maxResponseBytes) {
    return { ok: false, reason: `response is larger than maxResponseBytes (${maxResponseBytes} bytes)` };
  }
  return {
    ok: true,
    response: { version: value.version, statuscode: value.statuscode, statusmsg: value.statusmsg, headers: value.headers, body },
  };
}
