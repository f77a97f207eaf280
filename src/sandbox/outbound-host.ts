// The host side of the tenant's outbound fetch: each fetch is owned by the requests in flight on its isolate when it starts, counted against their maxSubrequests and maxSubrequestBytes, and aborted once the last of them ends (its answer or its deadline).

import type ivm from 'isolated-vm';
import type { Egress, OutboundAnswer, OutboundCall } from './egress.js';

/** Longest URL a fetch may name, characters. */
export const MAX_URL_CHARS = 8192;
/** Largest header section a fetch may send (its pairs as JSON), characters. */
export const MAX_HEADERS_CHARS = 65536;
/** Longest method name. */
const MAX_METHOD_CHARS = 32;
/** RFC 9110 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 field value: no CR, LF or NUL. */
const BAD_VALUE = /[\r\n\0]/;

/** What a fetch resolves with inside the isolate: `[0, status, statusText, [name, value, ...], body, url, redirected]`, or `[1, message]`. */
export type GuestAnswer = [0, number, string, string[], Uint8Array, string, boolean] | [1, string];

/** One request's use of the network so far. */
interface Usage {
  count: number;
  bytes: number;
}

/** One fetch under way: what aborts it, and the requests it may still belong to. */
interface Pending {
  readonly abort: AbortController;
  readonly owners: Set<number>;
}

/**
 * The outbound fetches of one lane's isolates. A fetch starts only while a request is in flight on
 * its isolate; it belongs to every request in flight there then (as a timer does, timer-host.ts:
 * isolated-vm gives no async context to tell which one's code made it), is counted against each of
 * them (refused once all of them are at their limit: with one request in flight, exactly its own
 * count) and is aborted once all of them have ended.
 */
export class OutboundHost {
  readonly #egress: Egress;
  #owners: (isolate: ivm.Isolate) => number[] = () => [];
  readonly #usage = new Map<number, Usage>();
  readonly #pending = new Set<Pending>();

  constructor(egress: Egress) {
    this.#egress = egress;
  }

  /** Sets how the requests in flight on an isolate are found (the lane's scheduler, once made). */
  bindOwners(owners: (isolate: ivm.Isolate) => number[]): void {
    this.#owners = owners;
  }

  /**
   * A fetch the guest asked for: its arguments checked by type here (anything else is refused),
   * then counted and performed. Never rejects.
   */
  async start(isolate: ivm.Isolate, url: unknown, method: unknown, headersJson: unknown, body: unknown): Promise<GuestAnswer> {
    const call = checkCall(url, method, headersJson, body);
    if (typeof call === 'string') return [1, call];
    const owners = this.#owners(isolate);
    if (owners.length === 0) return [1, 'fetch is only available while a request is being handled'];
    const max = this.#egress.limits.maxSubrequests;
    const usages = owners.map((id) => {
      let u = this.#usage.get(id);
      if (u === undefined) this.#usage.set(id, (u = { count: 0, bytes: 0 }));
      return u;
    });
    // Refused once every request it may belong to has used its count: each fetch is charged to all
    // of them, so all the fetches of an isolate stay within maxSubrequests × the requests they ran
    // for, and concurrent requests never refuse each other's first fetches.
    if (usages.every((u) => u.count >= max)) {
      this.#egress.refused();
      return [1, max === 0 ? 'fetch refused: this server may make no subrequests (maxSubrequests is 0)' : `subrequest limit (${max} per request, maxSubrequests) reached`];
    }
    for (const u of usages) u.count++;
    const maxBytes = this.#egress.limits.maxSubrequestBytes;
    let over = false;
    const meter = (n: number): boolean => {
      let room = false;
      for (const u of usages) {
        u.bytes += n;
        if (u.bytes <= maxBytes) room = true;
      }
      if (!room) over = true;
      return !over;
    };
    const p: Pending = { abort: new AbortController(), owners: new Set(owners) };
    this.#pending.add(p);
    let answer: OutboundAnswer;
    try {
      answer = await this.#egress.fetch(call, meter, p.abort.signal);
    } finally {
      this.#pending.delete(p);
    }
    if (over) {
      this.#egress.refused();
      return [1, `fetch to ${hostOf(call.url)}: subrequest bytes over the limit (${maxBytes} bytes per request, maxSubrequestBytes)`];
    }
    if (!answer.ok) return [1, answer.message];
    const flat: string[] = [];
    for (const [n, v] of answer.headers) flat.push(n, v);
    return [0, answer.status, answer.statusText, flat, answer.body, answer.url, answer.redirected];
  }

  /** Request `requestId` ended: its count is dropped, and the fetches no other request in flight may own are aborted. */
  requestEnded(requestId: number): void {
    this.#usage.delete(requestId);
    for (const p of this.#pending) {
      if (!p.owners.delete(requestId) || p.owners.size > 0) continue;
      this.#pending.delete(p);
      p.abort.abort(new Error('the request ended'));
    }
  }
}

/** The host part of a URL, for messages. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url.slice(0, 100);
  }
}

/** The guest's arguments as an {@link OutboundCall}, or why they are not one. */
function checkCall(url: unknown, method: unknown, headersJson: unknown, body: unknown): OutboundCall | string {
  if (typeof url !== 'string' || url.length > MAX_URL_CHARS) return `fetch: the URL must be a string of at most ${MAX_URL_CHARS} characters`;
  if (typeof method !== 'string' || method.length > MAX_METHOD_CHARS || !TOKEN.test(method)) return 'fetch: invalid method';
  if (typeof headersJson !== 'string' || headersJson.length > MAX_HEADERS_CHARS) return `fetch: the headers must be at most ${MAX_HEADERS_CHARS} characters`;
  if (body !== null && !(body instanceof Uint8Array)) return 'fetch: invalid body';
  let pairs: unknown;
  try {
    pairs = JSON.parse(headersJson);
  } catch {
    return 'fetch: invalid headers';
  }
  if (!Array.isArray(pairs)) return 'fetch: invalid headers';
  const headers: Array<readonly [string, string]> = [];
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) return 'fetch: invalid headers';
    const [n, v] = pair as unknown[];
    if (typeof n !== 'string' || typeof v !== 'string' || !TOKEN.test(n) || BAD_VALUE.test(v)) return 'fetch: invalid header';
    headers.push([n.toLowerCase(), v]);
  }
  return { url, method, headers, body };
}
