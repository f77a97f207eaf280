// The response a handler produced once it passed validation: what the sandbox hands out and the HTTP codec frames.

/** An HTTP version isohttpd speaks. */
export type HttpVersion = '0.9' | '1.0' | '1.1';

/** A response dict that passed validation (src/sandbox/response-check.ts), with its message as bytes. */
export interface ValidResponse {
  readonly version: HttpVersion;
  readonly statuscode: number;
  readonly statusmsg?: string | undefined;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body: Uint8Array;
}
