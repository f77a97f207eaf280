// HTTP client of the control API for the CLI (Node's global fetch): bearer token, JSON in and out, API errors and connection failures as typed errors.

/** Where the API is when neither `--url` nor `ISOHTTPD_URL` says. */
export const DEFAULT_API_URL = 'http://127.0.0.1:7070';

/** The API answered with an error status; `code` is its `ISO_ERR_*` code when the body had one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;

  constructor(status: number, code: string | undefined, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The API could not be reached (or the connection broke); `reason` is the system error code when there is one, e.g. `ECONNREFUSED`. */
export class UnreachableError extends Error {
  readonly url: string;
  readonly reason: string;

  /** @param during `connect`: no answer; `stream`: a stream broke; `ended`: the API ended a stream early (`reason` says why) */
  constructor(url: string, reason: string, during: 'connect' | 'stream' | 'ended') {
    super(
      during === 'connect'
        ? `cannot reach the isohttpd API at ${url}: ${reason}`
        : during === 'stream'
          ? `the connection to the isohttpd API at ${url} broke: ${reason}`
          : `the isohttpd API at ${url} ended the stream: ${reason}`,
    );
    this.name = 'UnreachableError';
    this.url = url;
    this.reason = reason;
  }
}

/** The system error code (or message) behind a failed fetch: undici wraps it in `cause`, sometimes in an AggregateError. */
function failureReason(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const { code, cause, errors } = e as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    if (cause !== undefined) e = cause;
    else if (Array.isArray(errors) && errors.length > 0) e = errors[0];
    else break;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Reads an error answer: `{error: {code, message}}`, or the start of whatever else came. */
async function apiError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const { code, message } = body.error ?? {};
    if (typeof code === 'string' && typeof message === 'string') return new ApiError(res.status, code, message);
  } catch {
    // not JSON: reported as text below
  }
  const snippet = text.trim().slice(0, 200);
  return new ApiError(res.status, undefined, `${res.statusText || 'error'}${snippet === '' ? '' : `: ${snippet}`}`);
}

/** A client of one isohttpd API, optionally with a tenant token. */
export class ApiClient {
  readonly url: string;
  readonly #token: string | undefined;

  /** @param url base URL of the API, e.g. `http://127.0.0.1:7070`; @param token sent as `Authorization: Bearer` when set */
  constructor(url: string, token: string | undefined) {
    this.url = url.replace(/\/+$/, '');
    this.#token = token === '' ? undefined : token;
  }

  async #fetch(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#token !== undefined) headers['authorization'] = `Bearer ${this.#token}`;
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(this.url + path, init);
    } catch (err) {
      throw new UnreachableError(this.url, failureReason(err), 'connect');
    }
    if (!res.ok) throw await apiError(res);
    return res;
  }

  /**
   * One API call. Resolves to the parsed JSON answer (null for an empty one, e.g. `204`).
   * @throws ApiError on an error status, UnreachableError when the API cannot be reached
   */
  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.#fetch(method, path, body);
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new UnreachableError(this.url, failureReason(err), 'stream');
    }
    if (text === '') return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError(res.status, undefined, `the API answered ${res.status} with something that is not JSON: ${text.slice(0, 200)}`);
    }
  }

  /**
   * A streaming GET of NDJSON: calls `onLine` with each line (without its newline) as it arrives,
   * resolves when the API ends the stream; `onOpen` is called once its head is in.
   * @throws ApiError on an error status, UnreachableError when the API cannot be reached or the stream breaks
   */
  async stream(path: string, onLine: (line: string) => void, onOpen?: () => void): Promise<void> {
    const res = await this.#fetch('GET', path);
    onOpen?.();
    if (res.body === null) return;
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for await (const chunk of res.body) {
        pending += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = pending.indexOf('\n')) !== -1) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line !== '') onLine(line);
        }
      }
    } catch (err) {
      throw new UnreachableError(this.url, failureReason(err), 'stream');
    }
    pending += decoder.decode();
    if (pending !== '') onLine(pending);
  }
}
