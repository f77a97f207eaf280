// Request ids: the header they travel in and which client-given ids are kept (shared by the control API and the tenant servers' workers).

/** The header a request id is read from and answered in (lower case, as HTTP/1 field names compare). */
export const REQUEST_ID_HEADER = 'x-request-id';

/** An incoming id is kept only if it is 1–128 of these characters (no spaces, quotes or control characters reach the logs). */
export const VALID_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Whether a client's `x-request-id` value is kept as the request's id. */
export function isSaneRequestId(value: string): boolean {
  return VALID_REQUEST_ID.test(value);
}
