// The crash policy: a server whose handler keeps crashing its worker is moved to a worker of its own (quarantine), and if it goes on there, marked failed and its port released.

import { CRASH_LIMIT, CRASH_WINDOW_MS, RETIRE_DRAIN_MS } from '../../core/supervision.js';
import type { Registry } from '../registry/registry.js';
import type { Log, WorkerPool } from '../supervisor/worker-pool.js';
import type { Placer } from './placement.js';
import type { ServerTable } from './server-table.js';

/** What the crash policy needs of the server manager. */
export interface CrashPolicyDeps {
  readonly registry: Registry;
  readonly log: Log;
  readonly pool: WorkerPool;
  readonly servers: ServerTable;
  readonly placer: Placer;
}

/** Counts the crashes each server causes and acts at the limit: running → quarantined → failed. */
export class CrashPolicy {
  readonly #deps: CrashPolicyDeps;

  constructor(deps: CrashPolicyDeps) {
    this.#deps = deps;
  }

  /** A server's handler crashed its worker: count it; at the limit, quarantine it, or fail it if already quarantined. */
  async onCrash(httpdid: number, reason: string): Promise<void> {
    const { registry, log, pool, servers } = this.#deps;
    const server = servers.get(httpdid);
    if (server === undefined || server.state !== 'running') return;
    const now = Date.now();
    server.crashes = [...server.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    if (server.crashes.length < CRASH_LIMIT) return;
    server.crashes = [];
    if (server.updatesPending > 0) {
      // A redeploy under way finishes first, so that the server moves with its current version.
      // (Only then: waiting even a tick would let the worker restart take the warm spare first.)
      await server.updating;
      if (!servers.holds(server) || server.state !== 'running') return;
    }
    const old = server.slots;
    // A virtual host is not quarantined: every server of its address runs on the same workers (a
    // worker of its own would take connections for its neighbours' names); it fails at once.
    if (!server.quarantined && server.hostnames.length === 0) {
      try {
        const slot = await pool.quarantine(httpdid);
        server.slots = [slot];
        server.quarantined = true;
        log.error({ httpdid, worker: slot }, `server quarantined on a worker of its own: ${reason} ${CRASH_LIMIT} times within ${CRASH_WINDOW_MS / 1000} s`);
        if (server.handle === null) throw new Error('the server has no bound socket');
        const { source, limits, exposeErrors, env, egress } = server.version;
        // Serving on its own worker first, then wound down where it was: its requests in flight there are answered.
        await pool.deploy(slot, { httpdid, port: server.port, source, limits, exposeErrors, env, egress, handle: server.handle });
        await Promise.all(old.map((s) => pool.undeploy(s, httpdid, RETIRE_DRAIN_MS)));
        return;
      } catch (err) {
        log.error({ httpdid, err }, 'quarantine failed');
      }
    }
    server.state = 'failed';
    server.reason = `${reason} ${CRASH_LIMIT} times within ${CRASH_WINDOW_MS / 1000} s${server.quarantined ? ', also on a worker of its own' : ''}`;
    await registry.setServerState(httpdid, 'failed', server.reason);
    if (server.hostnames.length > 0) {
      // Its names leave the address; the handle stays bound while another virtual host uses it.
      await this.#deps.placer.release(server);
    } else {
      server.slots = [];
      await Promise.all(old.map((s) => pool.undeploy(s, httpdid)));
      // Not serving: release the port so clients are refused rather than left waiting in the backlog.
      server.handle?.close();
    }
    log.error({ httpdid, reason: server.reason }, 'server failed');
  }
}
