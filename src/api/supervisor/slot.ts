// One slot of the worker pool: the worker process it holds now, the servers it hosts (kept to host them again on a replacement), and sending one server to its worker.

import { IsoError } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';
import type { EgressPolicy, ServerCounters, VirtualHostSpec } from '../../host/worker/protocol.js';
import type { BoundHandle } from '../control/bind.js';
import type { RestartBackoff } from './restart-policy.js';
import type { WorkerProcess } from './worker-process.js';

/** What a worker needs to host one server (kept so that a replacement worker can host it again). */
export interface DeploySpec {
  readonly httpdid: number;
  readonly port: number;
  readonly source: string;
  readonly limits: Limits;
  /** Whether its error bodies carry the handler's detail (the server's `exposeErrors`). */
  readonly exposeErrors: boolean;
  /** Its environment as JSON (an object of strings: variables and secrets), the handler's second argument. */
  readonly env: string;
  /** Its egress policy (null: no outbound access). */
  readonly egress: EgressPolicy | null;
  readonly handle: BoundHandle;
  /** Set for a virtual host: its shared address and hostnames (the handle is the address's, shared with the other virtual hosts there). */
  readonly vhost?: VirtualHostSpec;
}

/** One place for a worker in the pool; the worker in it is replaced when it dies, the slot stays. */
export interface Slot {
  readonly index: number;
  /** Set for a quarantine slot: the one server it may host. */
  readonly dedicatedTo: number | null;
  /** The worker now, or the replacement being started. */
  worker: Promise<WorkerProcess>;
  /** The worker once it is up and until it exits. */
  live: WorkerProcess | null;
  /** The servers the slot hosts, by httpdid. */
  readonly specs: Map<number, DeploySpec>;
  /** Counters from the last heartbeat (or fresh read), by httpdid. */
  lastStats: Record<string, ServerCounters>;
  /** When {@link lastStats} were answered (performance.now(), ms). */
  statsAt: number;
  /** When to try again if its worker keeps dying. */
  readonly backoff: RestartBackoff;
  /** A replacement is being started (after a worker exit, or to retire the worker): another exit starts no second one. */
  restarting: boolean;
  /** The worker being retired (it lost control of an isolate), until its replacement serves; it serves on meanwhile. */
  retiring: WorkerProcess | null;
  /** Retired workers finishing their requests in flight before they are killed, with their last counters, by httpdid. */
  readonly draining: Map<WorkerProcess, Record<string, ServerCounters>>;
  /**
   * The servers with requests in their sandbox on the worker now, with their requests in flight, as
   * the worker last said (heartbeat answer, or a `running` message since): whom a crash is charged to.
   */
  running: Map<number, number>;
  /** Compile checks sent to its worker and not answered yet (src/api/supervisor/source-check.ts): its exit meanwhile is charged to no server for them. */
  checks: number;
  /** Why the control process killed the worker (a missed heartbeat), for the exit log; null if it did not. */
  killedFor: string | null;
}

/** Sends one server (with its handle) to a worker; resolves once it listens. @throws IsoError with the worker's code. */
export async function hostOn(worker: WorkerProcess, spec: DeploySpec): Promise<void> {
  const { httpdid, port, source, limits, exposeErrors, env, egress, vhost } = spec;
  const reply = await worker.request({ op: 'deploy', httpdid, port, source, limits, exposeErrors, env, egress, ...(vhost === undefined ? {} : { vhost }) }, spec.handle);
  if (!reply.ok) throw new IsoError(reply.code, reply.message);
}
