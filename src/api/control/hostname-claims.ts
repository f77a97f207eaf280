// The hostnames a server claims on a shared address: validated and normalised from the request, and checked against the claims already there (no tenant may claim a name another tenant's claims could match).

import { IsoError } from '../../core/errors.js';
import { hostnamesOverlap, normaliseHostname } from '../../core/hostnames.js';

/** What one server claims on an address. */
export interface Claim {
  readonly tenant: string;
  readonly hostnames: readonly string[];
}

/**
 * A create request's `hostnames` (already checked by schemas/create-server.json for type, count and
 * characters), each normalised (lower case, no trailing dot), duplicates after normalisation merged.
 * @throws IsoError 400 naming the first name refused and why.
 */
export function requestHostnames(raw: readonly string[] | undefined): readonly string[] {
  if (raw === undefined) return [];
  const out = new Set<string>();
  for (const h of raw) {
    const n = normaliseHostname(h);
    if ('error' in n) throw new IsoError('ISO_ERR_API_BAD_REQUEST', `body.hostnames: ${n.error}`);
    out.add(n.name);
  }
  return Object.freeze([...out]);
}

/**
 * The theft rule. On one address: a name (exact or wildcard) is claimed once; the claims of two
 * different tenants never overlap (neither may claim a name the other's exact names or wildcards
 * could match: no wildcard over another tenant's name, no name under another tenant's wildcard), so
 * the precedence of exact over wildcard and of the longest suffix only ever decides between one
 * tenant's own servers.
 * @throws IsoError 409 `ISO_ERR_API_HOSTNAME_TAKEN`, naming the name asked for (never the other tenant).
 */
export function checkClaims(wanted: Claim, held: readonly Claim[], where: string): void {
  for (const other of held) {
    for (const h of wanted.hostnames) {
      for (const o of other.hostnames) {
        if (h === o) throw new IsoError('ISO_ERR_API_HOSTNAME_TAKEN', `hostname ${JSON.stringify(h)} is already claimed on ${where}`);
        if (other.tenant !== wanted.tenant && hostnamesOverlap(h, o)) {
          const why = h.startsWith('*.') && !o.startsWith('*.') ? 'covers a name' : 'overlaps a name';
          throw new IsoError('ISO_ERR_API_HOSTNAME_TAKEN', `hostname ${JSON.stringify(h)} ${why} another tenant claims on ${where}`);
        }
      }
    }
  }
}
