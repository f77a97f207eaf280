// A server's egress allow list (`egress.allow`: hosts with an optional port, `*.` wildcards) and the check of one URL against it; the address ranges are checked at connect time (cidr.ts, outbound.ts).

import { parseAddress } from '../../../core/cidr.js';

/** A server's egress policy as its version carries it: the hosts its handler may fetch from (schemas/egress.json). */
export interface EgressPolicy {
  readonly allow: readonly string[];
}

/** One allow-list entry, parsed. */
interface Entry {
  /** The host, lower case, without brackets (an IPv6 literal as written, normalized by parseAddress when compared). */
  readonly host: string;
  /** `*.host`: any name below `host` (not `host` itself). */
  readonly wildcard: boolean;
  /** The port, or null: the scheme's default port (80 for http, 443 for https). */
  readonly port: number | null;
}

/** An entry `host`, `host:port`, `*.host[:port]`, `[v6]`, `[v6]:port`, or null when it is none. */
export function parseEntry(text: string): Entry | null {
  let s = text.trim().toLowerCase();
  let wildcard = false;
  if (s.startsWith('*.')) {
    wildcard = true;
    s = s.slice(2);
  }
  let port: number | null = null;
  let host = s;
  const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(s);
  if (m === null) return null;
  host = m[1] as string;
  if (m[2] !== undefined) {
    port = Number(m[2]);
    if (port < 1 || port > 65535) return null;
  }
  if (host.startsWith('[')) {
    if (wildcard || parseAddress(host) === null) return null;
    host = host.slice(1, -1);
  } else if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/.test(host)) return null;
  return { host: host.endsWith('.') ? host.slice(0, -1) : host, wildcard, port };
}

/** Two hosts the same: names compared lower case without a final dot, addresses by their value. */
function sameHost(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseAddress(a);
  const y = parseAddress(b);
  return x !== null && y !== null && x.v6 === y.v6 && x.value === y.value;
}

/** A compiled allow list: answers whether a URL's host and port are on it. */
export class AllowList {
  readonly #entries: readonly Entry[];

  /** @throws Error naming the first entry that is not a host, `host:port` or `*.host` */
  constructor(allow: readonly string[]) {
    this.#entries = allow.map((a) => {
      const e = parseEntry(a);
      if (e === null) throw new Error(`egress.allow entry ${JSON.stringify(a)} is not a host, host:port or *.host`);
      return e;
    });
  }

  /**
   * Whether `url` (http: or https:) may be fetched: its host matches an entry (a `*.` one: any name
   * below it) and its port is the entry's (an entry without one: the scheme's default port).
   */
  allows(url: URL): boolean {
    const defaultPort = url.protocol === 'https:' ? 443 : 80;
    const port = url.port === '' ? defaultPort : Number(url.port);
    let host = url.hostname.toLowerCase();
    if (host.startsWith('[')) host = host.slice(1, -1);
    if (host.endsWith('.')) host = host.slice(0, -1);
    for (const e of this.#entries) {
      if ((e.port ?? defaultPort) !== port) continue;
      if (e.wildcard ? host.endsWith(`.${e.host}`) : sameHost(host, e.host)) return true;
    }
    return false;
  }
}
