// The tenant a control operation acts for: what the API's authentication hands to the server manager.

import type { QuotaOverrides } from '../registry/registry.js';

/** The tenant a request acts for. */
export interface Caller {
  readonly name: string;
  /** Quota overrides stored for the tenant (none for the open default tenant). */
  readonly overrides: QuotaOverrides;
}
