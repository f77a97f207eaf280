// Start-up restore: every stored server is bound and deployed again (an address still held by the previous instance retried for a while), or stored and held as failed with the reason.

import { IsoError } from '../../core/errors.js';
import { RESTORE_RETRY_INTERVAL_MS, RESTORE_RETRY_MS } from '../../core/supervision.js';
import type { Registry, ServerRow } from '../registry/registry.js';
import type { Log } from '../supervisor/worker-pool.js';
import type { ConsoleLog } from './console-log.js';
import { freshLife, type ManagedServer, type Placement } from './managed-server.js';
import type { Placer } from './placement.js';
import type { ServerTable } from './server-table.js';

/** What restoring needs of the server manager. */
export interface RestoreDeps {
  readonly registry: Registry;
  readonly log: Log;
  readonly placer: Placer;
  readonly servers: ServerTable;
  readonly console: ConsoleLog;
}

/**
 * Restores every stored server, one after the other in httpdid order: each `running` one is bound
 * and deployed again before this resolves; one that cannot be is stored and held as `failed` with
 * the reason. Stored `failed` servers are held as they are.
 */
export async function restoreAll(deps: RestoreDeps): Promise<void> {
  for (const row of await deps.registry.servers()) await restore(deps, row);
}

/**
 * Binds and deploys a stored server. The previous instance's workers may still hold the socket for
 * a moment after it was killed (they exit when the control process is gone), so an address in
 * use is retried for up to {@link RESTORE_RETRY_MS}.
 */
async function placeAgain(placer: Placer, row: ServerRow): Promise<Placement> {
  const deadline = Date.now() + RESTORE_RETRY_MS;
  for (;;) {
    try {
      return await placer.bindAndDeploy(row.httpdid, row.host, row.port, row.source, row.limits, row.replicas);
    } catch (err) {
      if (!(err instanceof IsoError && err.code === 'ISO_ERR_API_ADDRESS_IN_USE') || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, RESTORE_RETRY_INTERVAL_MS));
    }
  }
}

async function restore(deps: RestoreDeps, row: ServerRow): Promise<void> {
  deps.console.open(row.httpdid);
  const base = {
    httpdid: row.httpdid,
    tenant: row.tenant,
    host: row.host,
    port: row.port,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    version: { number: row.version, source: row.source, limits: row.limits },
    replicas: row.replicas,
    ...freshLife(),
  };
  let reason = row.reason ?? 'failed before the restart';
  if (row.state === 'running') {
    try {
      const placed = await placeAgain(deps.placer, row);
      deps.servers.add({ ...base, ...placed, state: 'running' });
      deps.log.info({ httpdid: row.httpdid, host: row.host, port: row.port, workers: placed.slots }, 'server restored');
      return;
    } catch (err) {
      reason = `could not be restored at start-up: ${(err as Error).message}`;
      await deps.registry.setServerState(row.httpdid, 'failed', reason);
      deps.log.error({ httpdid: row.httpdid, reason }, 'server failed');
    }
  }
  const failed: ManagedServer = { ...base, key: '', handle: null, slots: [], state: 'failed', reason };
  deps.servers.add(failed);
}
