// Virtual-host names: validation and normalisation of a server's `hostnames`, the Host value of a request reduced to a name, matching (exact beats wildcard, the longest wildcard suffix wins) and the overlap rule that keeps tenants from claiming each other's names.

/** One DNS label: letters, digits and hyphens, 1 to 63 characters, no hyphen first or last. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Longest DNS name, characters (RFC 1035 §2.3.4, without the trailing dot). */
const MAX_NAME = 253;

/**
 * Checks and normalises one declared hostname: an exact DNS name (`api.example.com`) or a wildcard
 * `*.suffix` whose suffix has at least two labels (`*.example.com`; `*`, `*.com` and a `*` anywhere
 * but as the whole leftmost label are refused). Lower-cased; one trailing dot dropped.
 * @returns the normalised name, or a message saying why it is refused
 */
export function normaliseHostname(raw: string): { name: string } | { error: string } {
  let name = raw.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  const wildcard = name.startsWith('*.');
  const rest = wildcard ? name.slice(2) : name;
  if (name.length === 0 || name.length > MAX_NAME) return { error: `${JSON.stringify(raw)} must be 1 to ${MAX_NAME} characters` };
  const labels = rest.split('.');
  for (const label of labels) {
    if (label === '*' || label.includes('*')) return { error: `${JSON.stringify(raw)}: a wildcard is only allowed as the whole leftmost label (*.example.com)` };
    if (!LABEL.test(label)) return { error: `${JSON.stringify(raw)} is not a DNS name (labels of letters, digits and hyphens, 1 to 63 characters, no hyphen first or last)` };
  }
  if (wildcard && labels.length < 2) return { error: `${JSON.stringify(raw)}: a wildcard needs a suffix of at least two labels (*.example.com, not *.com)` };
  if (/^[0-9.]+$/.test(rest)) return { error: `${JSON.stringify(raw)} is an IP address, not a host name` };
  return { name };
}

/**
 * The name a request's Host value (or absolute-form authority) designates: without its port,
 * lower-cased, one trailing dot dropped; null for none (an HTTP/1.0 request without Host) or an
 * IP literal, which no virtual host can claim.
 */
export function hostOfAuthority(authority: string | null): string | null {
  if (authority === null || authority.length === 0 || authority.startsWith('[')) return null;
  const colon = authority.lastIndexOf(':');
  let name = (colon === -1 ? authority : authority.slice(0, colon)).toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length === 0 || name.length > MAX_NAME || /^[0-9.]+$/.test(name)) return null;
  return name;
}

/** Whether `pattern` (an exact name or `*.suffix`) matches the request name `name` (`*.s` matches every name ending in `.s`, not `s` itself). */
export function hostnameMatches(pattern: string, name: string): boolean {
  return pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) : pattern === name;
}

/**
 * Whether two declared hostnames can match one request name: equal, or one a wildcard matching the
 * other (an exact name under it, or a longer wildcard under it). Claims of different tenants on one
 * address must never overlap.
 */
export function hostnamesOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.startsWith('*.') && (b.startsWith('*.') ? b.slice(1).endsWith(a.slice(1)) : hostnameMatches(a, b))) return true;
  if (b.startsWith('*.') && (a.startsWith('*.') ? a.slice(1).endsWith(b.slice(1)) : hostnameMatches(b, a))) return true;
  return false;
}

/**
 * The virtual hosts of one address, for routing: exact names first, then the wildcard with the
 * longest suffix that matches, then the address's fallback server, if it has one.
 */
export class HostTable<T> {
  readonly #exact = new Map<string, T>();
  /** `.suffix` (with its leading dot) → the server. */
  readonly #wildcards = new Map<string, T>();
  /** Dot positions worth looking at: the number of labels of the longest wildcard suffix. */
  #maxLabels = 0;
  #fallback: T | null = null;

  /** Adds a server's hostnames (already normalised and checked not to collide). */
  add(hostnames: readonly string[], target: T, fallback: boolean): void {
    for (const h of hostnames) {
      if (h.startsWith('*.')) {
        this.#wildcards.set(h.slice(1), target);
        this.#maxLabels = Math.max(this.#maxLabels, h.split('.').length - 1);
      } else this.#exact.set(h, target);
    }
    if (fallback) this.#fallback = target;
  }

  /** Removes every hostname of `target` (and it as the fallback). */
  remove(target: T): void {
    for (const [k, v] of this.#exact) if (v === target) this.#exact.delete(k);
    for (const [k, v] of this.#wildcards) if (v === target) this.#wildcards.delete(k);
    this.#maxLabels = 0;
    for (const k of this.#wildcards.keys()) this.#maxLabels = Math.max(this.#maxLabels, k.split('.').length - 1);
    if (this.#fallback === target) this.#fallback = null;
  }

  /** Whether no server is left. */
  get empty(): boolean {
    return this.#exact.size === 0 && this.#wildcards.size === 0 && this.#fallback === null;
  }

  /**
   * The server for a request name (see {@link hostOfAuthority}; null: none or an IP literal), or
   * null (421). At most one map lookup per label of the name, after the exact one.
   */
  route(name: string | null): T | null {
    if (name !== null) {
      const exact = this.#exact.get(name);
      if (exact !== undefined) return exact;
      // Longest suffix first: from the first dot rightwards, the first suffix with a wildcard wins.
      let at = name.indexOf('.');
      let labels = 0;
      for (let i = at; i !== -1; i = name.indexOf('.', i + 1)) labels++;
      while (at !== -1) {
        if (labels <= this.#maxLabels) {
          const w = this.#wildcards.get(name.slice(at));
          if (w !== undefined) return w;
        }
        labels--;
        at = name.indexOf('.', at + 1);
      }
    }
    return this.#fallback;
  }
}
