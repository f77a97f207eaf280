// Types of what the guest modules get from outside their folder: References from the host, the constants module the host builds, the tenant's module and whatwg-url's URL class.

/**
 * An isolated-vm `Reference` to a host function, as guest code holds it (handed over by a call
 * from the host, kept in a module scope). `applySync` returns the host function's result;
 * `applySyncPromise` blocks the isolate until the promise the host function returns settles.
 */
interface HostReference<A extends unknown[], R> {
  applySync(receiver: undefined, args: A): R;
  applySyncPromise(receiver: undefined, args: A): R;
  apply(receiver: undefined, args: A, options: { result: { promise: true } }): Promise<R>;
}

/** An instance of whatwg-url's URL class (the parts of it the URL facade uses). */
interface WhatwgUrl {
  href: string;
  readonly origin: string;
  protocol: string;
  username: string;
  password: string;
  host: string;
  hostname: string;
  port: string;
  pathname: string;
  search: string;
  hash: string;
}

/** whatwg-url's URL class, which the bundle's text returns (scripts/build-url-bundle.mjs). */
interface WhatwgUrlClass {
  new (url: unknown, base?: unknown): WhatwgUrl;
  canParse(url: unknown, base?: unknown): boolean;
}

/** Built by the host for each isolate (src/sandbox/guest-source.ts, `constantsSource`). */
declare module 'isohttpd:constants' {
  /** Most console lines kept between two drains. */
  export const MAX_PENDING_LINES: number;
  /** Longest console line kept, characters. */
  export const MAX_LINE_CHARS: number;
  /** The server's maxResponseBytes limit, bytes. */
  export const MAX_RESPONSE_BYTES: number;
  /** The server's maxResponseHeaderFields limit, fields. */
  export const MAX_RESPONSE_HEADER_FIELDS: number;
  /** The server's maxResponseHeaderBytes limit, bytes. */
  export const MAX_RESPONSE_HEADER_BYTES: number;
  /** What the isolate may hold outside its heap (wasm memories, resizable buffers): its memoryMb, bytes. */
  export const MEMORY_BUDGET_BYTES: number;
}

/** The tenant's handler module, as the bootstrap imports it. */
declare module 'tenant' {
  const handler: unknown;
  export default handler;
}
