// Which addresses a tenant server may bind: allowed hosts, the port range, never the API's own address.

import { IsoError } from '../errors.js';

/** The policy's inputs (from the validated config). */
export interface AddressPolicy {
  readonly allowedHosts: readonly string[];
  readonly portMin: number;
  readonly portMax: number;
  /** The API's own bound address and port. */
  readonly apiAddress: string;
  readonly apiPort: number;
}

/**
 * Checks a requested host and port (before resolution) and the address it resolved to.
 * @throws IsoError `ISO_ERR_API_ADDRESS_NOT_ALLOWED` naming the rule that refused it.
 */
export function checkAddress(policy: AddressPolicy, host: string, port: number, resolved: string): void {
  if (!policy.allowedHosts.includes(host)) {
    throw new IsoError('ISO_ERR_API_ADDRESS_NOT_ALLOWED', `host ${JSON.stringify(host)} is not allowed (allowed hosts: ${policy.allowedHosts.join(', ')})`);
  }
  if (port < policy.portMin || port > policy.portMax) {
    throw new IsoError('ISO_ERR_API_ADDRESS_NOT_ALLOWED', `port ${port} is not allowed (allowed ports: ${policy.portMin}-${policy.portMax})`);
  }
  const apiWildcard = policy.apiAddress === '0.0.0.0' || policy.apiAddress === '::';
  if (port === policy.apiPort && (apiWildcard || resolved === policy.apiAddress)) {
    throw new IsoError('ISO_ERR_API_ADDRESS_NOT_ALLOWED', `port ${port} on ${host} is the control API's own address`);
  }
}
