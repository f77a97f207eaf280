// Which addresses a tenant server may bind: allowed hosts, the port range, reserved ports (always the API's own port); who may share an address (virtual hosts).

import { IsoError } from '../../core/errors.js';

/** The policy's inputs (from the validated config). */
export interface AddressPolicy {
  readonly allowedHosts: readonly string[];
  readonly portMin: number;
  readonly portMax: number;
  /** Ports no tenant server may bind, on any host (config `reservedPorts`). */
  readonly reservedPorts: readonly number[];
  /** The API's own bound address and port (the port is reserved on every host). */
  readonly apiAddress: string;
  readonly apiPort: number;
  /** Whether servers of different tenants may share one address (config `virtualHosts.crossTenant`). */
  readonly crossTenant: boolean;
  /** Servers answering the Hosts no server of their shared address claims (config `virtualHosts.fallbackServers`), by httpdid. */
  readonly fallbackServers: readonly number[];
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
  if (port === policy.apiPort) {
    const where = resolved === '' || resolved === policy.apiAddress ? ` on ${host}` : '';
    throw new IsoError('ISO_ERR_API_ADDRESS_NOT_ALLOWED', `port ${port}${where} is reserved: it is the control API's own address`);
  }
  if (policy.reservedPorts.includes(port)) {
    throw new IsoError('ISO_ERR_API_ADDRESS_NOT_ALLOWED', `port ${port} is reserved (reserved ports: ${policy.reservedPorts.join(', ')})`);
  }
}

/**
 * Checks that `tenant` may add a server with hostnames to an address whose servers with hostnames
 * belong to `holders` (the tenants there now; empty: a new address).
 * @throws IsoError `ISO_ERR_API_ADDRESS_NOT_ALLOWED` when the address is another tenant's and tenants may not share.
 */
export function checkShare(policy: AddressPolicy, tenant: string, holders: ReadonlySet<string>, host: string, port: number): void {
  if (policy.crossTenant || holders.size === 0 || (holders.size === 1 && holders.has(tenant))) return;
  throw new IsoError('ISO_ERR_API_ADDRESS_NOT_ALLOWED', `${host} port ${port} is shared by another tenant's servers, and tenants may not share an address here (config virtualHosts.crossTenant)`);
}
