// Every error code isohttpd can answer with, grouped by layer, each with its HTTP status (test/errors.test.ts pins the list).

/**
 * The stable error codes. Never rename or renumber one: clients and scripts match on them.
 * `ISO_ERR_API_*` are control-API answers, `ISO_ERR_HTTP_*` are answers the tenant listeners
 * generate while parsing a request, `ISO_ERR_SBX_*` are answers for a handler that did not
 * produce a usable response.
 */
export const ERRORS = Object.freeze({
  // Control API
  ISO_ERR_API_BAD_REQUEST: { status: 400, message: 'the request body or parameters are invalid' },
  ISO_ERR_API_MALFORMED_JSON: { status: 400, message: 'the request body is not valid JSON' },
  ISO_ERR_API_UNAUTHORIZED: { status: 401, message: 'a valid bearer token is required' },
  ISO_ERR_API_ADDRESS_NOT_ALLOWED: { status: 403, message: 'the address is not allowed' },
  ISO_ERR_API_QUOTA: { status: 403, message: 'a quota of the tenant would be exceeded' },
  ISO_ERR_API_NOT_FOUND: { status: 404, message: 'no such server' },
  ISO_ERR_API_ROUTE_NOT_FOUND: { status: 404, message: 'no such route' },
  ISO_ERR_API_VERSION_NOT_FOUND: { status: 404, message: 'no such kept version of the server' },
  ISO_ERR_API_SECRET_NOT_FOUND: { status: 404, message: 'the server has no secret of that name' },
  ISO_ERR_API_ADDRESS_IN_USE: { status: 409, message: 'the address is already in use' },
  ISO_ERR_API_SERVER_FAILED: { status: 409, message: 'the server has failed and cannot be updated' },
  ISO_ERR_API_NAME_TAKEN: { status: 409, message: 'the tenant has a server of that name already' },
  ISO_ERR_API_HOSTNAME_TAKEN: { status: 409, message: 'a hostname is already claimed on that address' },
  ISO_ERR_API_SERVER_RUNNING: { status: 409, message: 'the server is running; only a failed server can be restarted' },
  ISO_ERR_API_BODY_TOO_LARGE: { status: 413, message: 'the request body is too large' },
  ISO_ERR_API_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the request body must be application/json' },
  ISO_ERR_API_INVALID_SOURCE: { status: 422, message: 'the handler source is not a usable module' },
  ISO_ERR_API_RATE_LIMITED: { status: 429, message: 'too many requests with this token; retry later' },
  ISO_ERR_API_INTERNAL: { status: 500, message: 'internal error' },
  ISO_ERR_API_BIND_FAILED: { status: 500, message: 'the address could not be bound' },
  ISO_ERR_API_WORKER_UNAVAILABLE: { status: 503, message: 'no sandbox worker is available' },
  ISO_ERR_API_REGISTRY_UNAVAILABLE: { status: 503, message: 'the registry database cannot be reached; retry later' },

  // Tenant listeners: the HTTP codec
  ISO_ERR_HTTP_BAD_REQUEST: { status: 400, message: 'Bad Request' },
  ISO_ERR_HTTP_HEADERS_TIMEOUT: { status: 408, message: 'Request Timeout' },
  ISO_ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'Request Timeout' },
  ISO_ERR_HTTP_BODY_TOO_LARGE: { status: 413, message: 'Content Too Large' },
  ISO_ERR_HTTP_URI_TOO_LONG: { status: 414, message: 'URI Too Long' },
  ISO_ERR_HTTP_EXPECTATION_FAILED: { status: 417, message: 'Expectation Failed' },
  ISO_ERR_HTTP_MISDIRECTED_REQUEST: { status: 421, message: 'Misdirected Request' },
  ISO_ERR_HTTP_HEADERS_TOO_LARGE: { status: 431, message: 'Request Header Fields Too Large' },
  ISO_ERR_HTTP_NOT_IMPLEMENTED: { status: 501, message: 'Not Implemented' },
  ISO_ERR_HTTP_TOO_MANY_CONNECTIONS: { status: 503, message: 'Service Unavailable' },
  ISO_ERR_HTTP_CPU_THROTTLED: { status: 503, message: 'Service Unavailable' },
  ISO_ERR_HTTP_VERSION_NOT_SUPPORTED: { status: 505, message: 'HTTP Version Not Supported' },

  // Sandbox outcomes other than `ok` (see src/core/outcome.ts)
  ISO_ERR_SBX_EXCEPTION: { status: 500, message: 'handler raised' },
  ISO_ERR_SBX_INVALID_RESPONSE: { status: 500, message: 'handler returned an invalid response' },
  ISO_ERR_SBX_CRASHED: { status: 502, message: 'the sandbox crashed' },
  ISO_ERR_SBX_MEMORY: { status: 503, message: 'handler exceeded its memory limit' },
  ISO_ERR_SBX_TIMEOUT: { status: 504, message: 'handler exceeded its time limit' },
} as const);

/** One of the stable error codes. */
export type ErrorCode = keyof typeof ERRORS;

/** An error carrying a stable code; its HTTP status comes from {@link ERRORS}. */
export class IsoError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message?: string) {
    super(message ?? ERRORS[code].message);
    this.name = 'IsoError';
    this.code = code;
    this.status = ERRORS[code].status;
  }
}

/** The JSON body every control-API error is sent as. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** Builds the `{error: {code, message}}` body for an error code. */
export function errorBody(code: ErrorCode, message?: string): ErrorBody {
  return { error: { code, message: message ?? ERRORS[code].message } };
}
