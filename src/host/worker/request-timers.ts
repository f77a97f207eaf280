// The three timers of a client connection: idle between requests (keep-alive), headers of a request, the whole request.

import type { ErrorCode } from '../../core/errors.js';

/** The timers of one connection; a headers or request timeout is reported as the fault to answer (408), idleness ends the connection. */
export class RequestTimers {
  readonly #onIdle: () => void;
  readonly #onTimeout: (code: ErrorCode, reason: string) => void;
  #headers: NodeJS.Timeout | null = null;
  #request: NodeJS.Timeout | null = null;
  #idle: NodeJS.Timeout | null = null;

  /**
   * @param onIdle called when the connection stayed idle for its keep-alive time
   * @param onTimeout called when a request's headers or the whole request did not arrive in time
   */
  constructor(onIdle: () => void, onTimeout: (code: ErrorCode, reason: string) => void) {
    this.#onIdle = onIdle;
    this.#onTimeout = onTimeout;
  }

  /** Waits `keepAliveMs` for the next request. */
  armIdle(keepAliveMs: number): void {
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = setTimeout(this.#onIdle, keepAliveMs);
  }

  /** A request's first byte arrived: no longer idle; its headers and the whole request are timed from now, ms. */
  requestStarted(headersTimeoutMs: number, requestTimeoutMs: number): void {
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    this.#headers = this.#timeout('ISO_ERR_HTTP_HEADERS_TIMEOUT', 'request headers not received in time', headersTimeoutMs);
    this.#request = this.#timeout('ISO_ERR_HTTP_REQUEST_TIMEOUT', 'request not received in time', requestTimeoutMs);
  }

  /** The request's header section is in. */
  headReceived(): void {
    if (this.#headers !== null) clearTimeout(this.#headers);
    this.#headers = null;
  }

  /** The whole request (its body too) is in. */
  requestReceived(): void {
    if (this.#request !== null) clearTimeout(this.#request);
    this.#request = null;
  }

  /** Stops every timer. */
  clear(): void {
    for (const t of [this.#headers, this.#request, this.#idle]) if (t !== null) clearTimeout(t);
    this.#headers = this.#request = this.#idle = null;
  }

  #timeout(code: ErrorCode, reason: string, ms: number): NodeJS.Timeout {
    return setTimeout(() => this.#onTimeout(code, reason), ms);
  }
}
