// Start-up restore: every stored server is bound and deployed again (an address still held by the previous instance retried for a while), or stored and held as failed with the reason.

import { IsoError } from '../../core/errors.js';
import { RESTORE_LATER_INTERVAL_MS, RESTORE_RETRY_INTERVAL_MS, RESTORE_RETRY_MS } from '../../core/supervision.js';
import type { Registry, ServerRow } from '../registry/registry.js';
import type { Log } from '../supervisor/worker-pool.js';
import { transientPlacementFailure } from './bind.js';
import type { ConsoleLog } from './console-log.js';
import { envJson, type HandlerCode, type ManagedServer, type Placement, type Secret, type ServerVersion, storedServer } from './managed-server.js';
import type { SecretBox } from './secret-box.js';
import { runnableSource } from './typescript.js';
import type { Placer } from './placement.js';
import type { ServerTable } from './server-table.js';

/** What restoring needs of the server manager. */
export interface RestoreDeps {
  readonly registry: Registry;
  readonly log: Log;
  readonly placer: Placer;
  readonly servers: ServerTable;
  readonly console: ConsoleLog;
  /** Opens the stored secrets. */
  readonly box: SecretBox;
  /** Whether the service is stopping (a server still waiting for its address stops trying). */
  readonly stopping: () => boolean;
}

/**
 * Restores every stored server, one after the other in httpdid order: each `running` one is bound
 * and deployed again before this resolves. One that still fails for a transient cause after
 * {@link RESTORE_RETRY_MS} (see {@link transientPlacementFailure}: its address in use or not
 * configured yet, its host name not resolving yet, no worker) is shown `failed` with the reason but
 * stays `running` in the registry (a transient cause never fails a server for good) and is retried
 * every {@link RESTORE_LATER_INTERVAL_MS} until it binds, is deleted, or the service stops. One that
 * cannot be restored for any other reason is stored and held as `failed` with the reason. Stored
 * `failed` servers are held as they are. Every decision is logged.
 */
export async function restoreAll(deps: RestoreDeps): Promise<void> {
  for (const row of await deps.registry.servers()) await restore(deps, row);
}

/**
 * Binds and deploys a stored server. The previous instance's workers may still hold the socket for
 * a moment after it was killed (they exit when the control process is gone), so a transient
 * failure (an address in use, above all) is retried for up to {@link RESTORE_RETRY_MS}.
 */
async function placeAgain(placer: Placer, row: ServerRow, code: HandlerCode): Promise<Placement> {
  const deadline = Date.now() + RESTORE_RETRY_MS;
  for (;;) {
    try {
      return await placer.bindAndDeploy(row, code);
    } catch (err) {
      if (!transientPlacementFailure(err) || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, RESTORE_RETRY_INTERVAL_MS));
    }
  }
}

/** A stored server's secrets, opened. @throws IsoError when one does not open (another key) */
async function secretsOf(deps: Pick<RestoreDeps, 'registry' | 'box'>, httpdid: number): Promise<Map<string, Secret>> {
  const out = new Map<string, Secret>();
  for (const s of await deps.registry.secrets(httpdid)) out.set(s.name, { value: deps.box.open(httpdid, s.name, s.sealed), updatedAt: s.updatedAt });
  return out;
}

/**
 * What a stored server runs, or why it cannot run: a TypeScript source that no longer strips (a
 * newer Node.js refusing what an older one took), a secret that does not open. Such a server fails
 * with the reason; the other servers are restored as usual. (Cluster mode's nodes deploy what they are placed by it too.)
 */
export async function versionOf(deps: Pick<RestoreDeps, 'registry' | 'box'>, row: ServerRow): Promise<{ version: ServerVersion; secrets: ReadonlyMap<string, Secret>; error: string | null }> {
  const plain = { number: row.version, language: row.language, tenantSource: row.source, limits: row.limits, exposeErrors: row.exposeErrors, vars: row.vars, egress: row.egress };
  try {
    const secrets = await secretsOf(deps, row.httpdid);
    return { version: { ...plain, source: runnableSource(row.source, row.language), env: envJson(row.vars, secrets) }, secrets, error: null };
  } catch (err) {
    return { version: { ...plain, source: row.source, env: '{}' }, secrets: new Map(), error: (err as Error).message };
  }
}

async function restore(deps: RestoreDeps, row: ServerRow): Promise<void> {
  deps.console.open(row.httpdid);
  const { version, secrets, error } = await versionOf(deps, row);
  const base = storedServer(row, version, secrets);
  let reason = row.reason ?? 'failed before the restart';
  if (row.state === 'running' && error !== null) {
    reason = `could not be restored at start-up: ${error}`;
    await deps.registry.setServerState(row.httpdid, 'failed', reason);
    deps.log.error({ httpdid: row.httpdid, reason }, 'server failed: not restored');
  } else if (row.state === 'running') {
    try {
      const placed = await placeAgain(deps.placer, row, base.version);
      deps.servers.add({ ...base, ...placed, state: 'running' });
      deps.log.info({ httpdid: row.httpdid, host: row.host, port: row.port, workers: placed.slots }, 'server restored');
      return;
    } catch (err) {
      if (transientPlacementFailure(err)) {
        const message = (err as Error).message;
        const waiting: ManagedServer = { ...base, key: '', handle: null, slots: [], state: 'failed', reason: waitingReason(message) };
        deps.servers.add(waiting);
        const what = err instanceof IsoError && err.code === 'ISO_ERR_API_ADDRESS_IN_USE' ? 'its address is in use' : `a transient cause (${message})`;
        deps.log.warn({ httpdid: row.httpdid, host: row.host, port: row.port, reason: waiting.reason }, `server not restored yet: ${what}; retrying`);
        void restoreLater(deps, row, waiting);
        return;
      }
      reason = `could not be restored at start-up: ${(err as Error).message}`;
      await deps.registry.setServerState(row.httpdid, 'failed', reason);
      deps.log.error({ httpdid: row.httpdid, reason }, 'server failed: not restored');
    }
  } else deps.log.info({ httpdid: row.httpdid, reason }, 'server kept failed: it was failed before the restart');
  const failed: ManagedServer = { ...base, key: '', handle: null, slots: [], state: 'failed', reason };
  deps.servers.add(failed);
}

/** What a server still waiting out a transient cause at start-up shows as its reason. */
function waitingReason(message: string): string {
  return (
    `not restored yet: ${message} (retried for ${RESTORE_RETRY_MS / 1000} s at start-up; retried every ` + `${RESTORE_LATER_INTERVAL_MS / 1000} s until it can be bound; still running in the registry)`
  );
}

/**
 * Retries a server that failed for a transient cause at start-up until it binds (it is then
 * `running`, the same object), is deleted, or the service stops. A failure for another cause fails
 * it for good, in the registry too.
 */
async function restoreLater(deps: RestoreDeps, row: ServerRow, server: ManagedServer): Promise<void> {
  const gone = (): boolean => {
    if (!deps.stopping() && deps.servers.holds(server)) return false;
    deps.log.info({ httpdid: row.httpdid }, `server no longer retried: ${deps.stopping() ? 'the service is stopping' : 'it was deleted or restarted'}`);
    return true;
  };
  for (;;) {
    await new Promise((r) => setTimeout(r, RESTORE_LATER_INTERVAL_MS).unref());
    if (gone()) return;
    try {
      const placed = await deps.placer.bindAndDeploy(row, server.version);
      if (gone()) {
        // Deleted (or the service stopping) while it was being bound: let the address go again.
        await deps.placer.release({ ...server, ...placed, state: 'running' });
        return;
      }
      Object.assign(server, placed, { state: 'running' });
      delete server.reason;
      deps.log.info({ httpdid: row.httpdid, host: row.host, port: row.port, workers: placed.slots }, 'server restored: its address became free');
      return;
    } catch (err) {
      if (transientPlacementFailure(err)) continue;
      if (gone()) return;
      server.reason = `could not be restored: ${(err as Error).message}`;
      await deps.registry.setServerState(row.httpdid, 'failed', server.reason);
      deps.log.error({ httpdid: row.httpdid, reason: server.reason }, 'server failed: not restored');
      return;
    }
  }
}
