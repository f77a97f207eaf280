// Types of an isohttpd handler: the request dict it receives and the response dict it returns (README.md, "Request dict" and "Response dict"; schemas/response-dict.json). Use them from a TypeScript handler with `import type` (erased before the handler runs: handlers cannot import modules).

/** The request body, as a file-like stream (README.md, `datastream`). */
export interface DataStream {
  /** At most `size` bytes (all the rest when omitted); empty at the end. */
  read(size?: number): Uint8Array;
  /** The rest as a UTF-8 string (invalid bytes become U+FFFD). */
  text(): string;
  /** As read, without blocking the isolate while bytes arrive (for an async handler). */
  readAsync(size?: number): Promise<Uint8Array>;
  /** As text, without blocking the isolate while bytes arrive. */
  textAsync(): Promise<string>;
  /** Chunks of at most 64 KiB, for `for await`. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
}

/** The server's variables and secrets (README.md, "Handlers"): a frozen object of strings, the handler's second argument. */
export type Env = Readonly<Record<string, string>>;

/** The request dict. */
export interface RequestDict {
  /** The method as sent, e.g. `"GET"`. */
  readonly verb: string;
  /** The request-target's path, not decoded. */
  readonly path: string;
  /** The text after the first `?`, not decoded; null without one. */
  readonly querystr: string | null;
  /** `querystr` split and decoded; a name without `=` maps to null. */
  readonly querydict: Readonly<Record<string, string | null>>;
  readonly version: '0.9' | '1.0' | '1.1';
  /** Keyed by field name as the client first spelled it; repeated fields joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly datastream: DataStream;
  /** The server's id. */
  readonly httpdid: number;
  readonly remoteipstr: string;
  readonly remoteportnum: number;
}

/** The response dict (schemas/response-dict.json): every field but `statusmsg` is required. */
export interface ResponseDict {
  version: '0.9' | '1.0' | '1.1';
  /** 100–599. */
  statuscode: number;
  /** A reason phrase; default the standard one. */
  statusmsg?: string;
  /** Names are RFC 9110 tokens; values strings or finite numbers. */
  headers: Record<string, string | number>;
  /**
   * Sent as UTF-8 when a string; an iterable or async iterable of strings and Uint8Arrays (a
   * generator, an async generator, a ReadableStream) is streamed (README.md, "Streamed responses").
   */
  message: string | Uint8Array | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;
}

/** The handler's third argument (README.md, "After the response"). */
export interface Context {
  /** Keeps `promise`'s work going after the response, for at most the server's waitUntilMs. */
  waitUntil(promise: Promise<unknown>): void;
  /** Does nothing here (there is no origin to fall back to). */
  passThroughOnException(): void;
}

/** A handler: the module's default export. It may return its response dict or a promise of it. */
export type Handler = (request: RequestDict, env: Env, ctx: Context) => ResponseDict | Promise<ResponseDict>;
