// Which addresses a tenant server may bind: allowed hosts, the port range, reserved ports (always the API's own port).

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
