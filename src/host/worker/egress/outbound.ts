// The host's outbound fetch for one server (undici): the allow list checked per hop, redirects followed by hand, every address resolved and checked at connect time against the denied ranges and the operator's networks, bytes counted as they arrive.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import type { Limits } from '../../../core/limits.js';
import type { ByteMeter, Egress, OutboundAnswer, OutboundCall } from '../../../sandbox/egress.js';
import { type Cidr, deniedReason, parseAddress } from '../../../core/cidr.js';
import { AllowList, type EgressPolicy } from './policy.js';

/** Most redirects one fetch follows. */
export const MAX_REDIRECTS = 5;
/** Largest response header section accepted, bytes. */
const MAX_RESPONSE_HEADER_BYTES = 65536;
/** Time to connect (TCP, and TLS for https), ms. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Time waiting for a response's head, and between two body chunks, ms (the request's deadline aborts sooner). */
const IO_TIMEOUT_MS = 30_000;
/** Connections kept per origin by one server. */
const CONNECTIONS_PER_ORIGIN = 16;
/** Request headers the host sets itself or that change the connection: a tenant's are dropped (as browsers do). */
const DROPPED = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer', 'proxy-authorization', 'proxy-connection']);
/** Headers not sent on to another origin after a redirect. */
const CREDENTIALS = new Set(['authorization', 'cookie']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** What one server's outbound fetches count (src/host/worker/counters.ts). */
export interface EgressCounters {
  /** A fetch started. */
  subrequest(): void;
  /** Body bytes sent or received. */
  bytes(n: number): void;
  /** A fetch refused (policy or limit). */
  refused(): void;
}

/** Refused by the policy at connect time (an address in a denied range), with the tenant's message. */
class EgressRefused extends Error {
  override name = 'EgressRefused';
}

/** Why a fetch failed, in the tenant's words. */
function failure(err: unknown, url: URL): string {
  let e: unknown = err;
  for (let i = 0; i < 4 && e instanceof Error; i++) {
    if (e instanceof EgressRefused) return e.message;
    e = e.cause;
  }
  const name = err instanceof Error ? err.name : '';
  const code = (err as { code?: unknown } | null)?.code;
  if (name === 'AbortError' || code === 'UND_ERR_ABORTED') return `fetch to ${url.host} aborted: the request ended`;
  if (code === 'UND_ERR_HEADERS_OVERFLOW') return `fetch to ${url.host} failed: the response's header section is larger than ${MAX_RESPONSE_HEADER_BYTES} bytes`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return `fetch to ${url.host} failed: connect timed out`;
  return `fetch to ${url.host} failed: ${typeof code === 'string' ? code : err instanceof Error ? err.message.slice(0, 200) : 'network error'}`;
}

/**
 * The outbound side of one hosted server: one undici Agent (its own connection pool) whose every
 * new connection resolves the host itself and connects only to an address outside the denied ranges
 * (or inside one the operator opened). Versions get an {@link Egress} with their own allow list and limits.
 */
export class ServerEgress {
  readonly #agent: Agent;
  readonly #opened: readonly Cidr[];
  readonly #counters: EgressCounters;

  /** @param opened the operator's `egressAllowNetworks` */
  constructor(opened: readonly Cidr[], counters: EgressCounters) {
    this.#opened = opened;
    this.#counters = counters;
    const base = buildConnector({ timeout: CONNECT_TIMEOUT_MS });
    this.#agent = new Agent({
      connect: (opts, cb) => void this.#connect(base, opts, cb),
      maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
      headersTimeout: IO_TIMEOUT_MS,
      bodyTimeout: IO_TIMEOUT_MS,
      connections: CONNECTIONS_PER_ORIGIN,
    });
  }

  /** The outbound fetch of a version with `policy` (null: no egress field, no outbound access) and `limits`. */
  forVersion(policy: EgressPolicy | null, limits: Pick<Limits, 'maxSubrequests' | 'maxSubrequestBytes'>): Egress {
    const allow = policy === null ? null : new AllowList(policy.allow);
    return {
      limits: { maxSubrequests: limits.maxSubrequests, maxSubrequestBytes: limits.maxSubrequestBytes },
      fetch: (call, meter, signal) => this.#fetch(allow, call, meter, signal),
      refused: () => this.#counters.refused(),
    };
  }

  /** Closes the pool (the server stopped). */
  async close(): Promise<void> {
    await this.#agent.destroy().catch(() => undefined);
  }

  /** Resolves, checks every address, connects to the first allowed one (never resolving twice: the socket goes to the address checked). */
  async #connect(base: buildConnector.connector, opts: buildConnector.Options, cb: buildConnector.Callback): Promise<void> {
    const host = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname;
    let addrs: Array<{ address: string }>;
    if (isIP(host) !== 0) addrs = [{ address: host }];
    else {
      try {
        addrs = await lookup(host, { all: true, verbatim: true });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        return cb(new EgressRefused(`fetch to ${host} failed: DNS lookup failed (${typeof code === 'string' ? code : 'error'})`), null);
      }
    }
    let first = '';
    for (const { address } of addrs) {
      const parsed = parseAddress(address);
      const why = parsed === null ? 'not an IP address' : deniedReason(parsed, this.#opened);
      if (why === null) return base({ ...opts, hostname: address }, cb);
      if (first === '') first = isIP(host) !== 0 ? `fetch to ${host} refused by egress policy (${why})` : `fetch to ${host} (${address}) refused by egress policy (${why})`;
    }
    this.#counters.refused();
    cb(new EgressRefused(first === '' ? `fetch to ${host} failed: no address` : first), null);
  }

  async #fetch(allow: AllowList | null, call: OutboundCall, meter: ByteMeter, signal: AbortSignal): Promise<OutboundAnswer> {
    this.#counters.subrequest();
    const charge = (n: number): boolean => {
      this.#counters.bytes(n);
      return meter(n);
    };
    let url: URL;
    try {
      url = new URL(call.url);
    } catch {
      return { ok: false, message: `fetch: ${JSON.stringify(call.url.slice(0, 200))} is not a valid URL` };
    }
    let method = call.method;
    let body = call.body;
    let headers = call.headers.filter(([n]) => !DROPPED.has(n));
    if (body !== null && !charge(body.byteLength)) return { ok: false, message: 'over the byte limit' };
    for (let hop = 0; ; hop++) {
      const refusal = this.#refusal(allow, url);
      if (refusal !== null) {
        this.#counters.refused();
        return { ok: false, message: refusal };
      }
      let res: Awaited<ReturnType<Agent['request']>>;
      try {
        res = await this.#agent.request({ origin: url.origin, path: url.pathname + url.search, method, headers: headers.flat(), body, signal });
      } catch (err) {
        return { ok: false, message: failure(err, url) };
      }
      // destroy() below emits 'error' on the body: unhandled, that would end the worker.
      res.body.on('error', () => undefined);
      const location = res.headers['location'];
      if (REDIRECTS.has(res.statusCode) && typeof location === 'string') {
        res.body.destroy();
        if (hop >= MAX_REDIRECTS) return { ok: false, message: `fetch to ${call.url.slice(0, 200)} failed: more than ${MAX_REDIRECTS} redirects` };
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          return { ok: false, message: `fetch to ${url.host} failed: its redirect's Location is not a URL` };
        }
        if (res.statusCode === 303 ? method !== 'HEAD' : (res.statusCode === 301 || res.statusCode === 302) && method === 'POST') {
          method = 'GET';
          body = null;
          headers = headers.filter(([n]) => n !== 'content-type');
        }
        if (next.origin !== url.origin) headers = headers.filter(([n]) => !CREDENTIALS.has(n));
        url = next;
        continue;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          if (!charge(chunk.byteLength)) {
            res.body.destroy();
            return { ok: false, message: 'over the byte limit' };
          }
          chunks.push(chunk);
          total += chunk.byteLength;
        }
      } catch (err) {
        return { ok: false, message: failure(err, url) };
      }
      // A fresh, exactly sized array: a Buffer may be a view of a shared pool, which must not be copied into the isolate.
      const bytes = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.byteLength;
      }
      const pairs: Array<[string, string]> = [];
      for (const [n, v] of Object.entries(res.headers)) {
        if (Array.isArray(v)) for (const x of v) pairs.push([n, x]);
        else if (typeof v === 'string') pairs.push([n, v]);
      }
      return { ok: true, status: res.statusCode, statusText: res.statusText ?? '', headers: pairs, body: bytes, url: url.href, redirected: hop > 0 };
    }
  }

  /** Why `url` may not be fetched by this version's allow list (its addresses are checked at connect time), or null. */
  #refusal(allow: AllowList | null, url: URL): string | null {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `fetch: only http: and https: URLs can be fetched, not ${url.protocol}`;
    if (url.username !== '' || url.password !== '') return 'fetch: a URL with credentials is not fetched (send an Authorization header)';
    const host = url.port === '' ? url.hostname : url.host;
    if (allow === null) return `fetch to ${host} refused: this server has no egress allow list (no outbound access)`;
    if (!allow.allows(url)) return `fetch to ${host} refused: not in this server's egress allow list`;
    return null;
  }
}
