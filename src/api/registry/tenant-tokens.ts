// What every registry engine shares about tenants: the valid names, the tokens' form and the hash of them that is stored.

import { createHash, randomBytes } from 'node:crypto';

/** SHA-256 of a token, hex: what is stored and looked up. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Tenant names: what `isohttpd tenant add` accepts. */
export const TENANT_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

/** A new random token: `iso_` and 32 random bytes, base64url (43 characters). */
export function newToken(): string {
  return `iso_${randomBytes(32).toString('base64url')}`;
}

/** The message an invalid tenant name is refused with. */
export function invalidTenantName(name: string): string {
  return `invalid tenant name ${JSON.stringify(name)}: 1-63 characters of a-z 0-9 _ . - starting with a letter or digit`;
}
