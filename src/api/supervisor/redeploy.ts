// Hot redeploy of one server over every slot hosting it: prepare the new version everywhere, then commit it everywhere, or abort it everywhere.

import { IsoError } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';
import type { EgressPolicy } from '../../host/worker/protocol.js';
import type { Log } from './log.js';
import type { DeploySpec, Slot } from './slot.js';
import type { WorkerProcess } from './worker-process.js';

/** A new version of a server compiled on every one of its slots, not yet serving. */
export interface PreparedRedeploy {
  /** Switches every replica to the new version (new requests; in-flight ones finish on the old). Never rejects: a replica that cannot switch is logged and re-hosted. */
  commit(): Promise<void>;
  /** Drops the prepared version everywhere; the old one keeps serving. */
  abort(): Promise<void>;
}

/** Asks a worker to do one redeploy step for a server. @throws IsoError with the worker's code. */
async function step(
  worker: WorkerProcess,
  req: { op: 'prepare'; httpdid: number; source: string; limits: Limits; exposeErrors: boolean; env: string; egress: EgressPolicy | null } | { op: 'commit' | 'abort'; httpdid: number },
): Promise<void> {
  const reply = await worker.request(req);
  if (!reply.ok) throw new IsoError(reply.code, reply.message);
}

/**
 * Hot redeploy, step 1: compiles `spec`'s source with its limits next to the serving version on
 * every slot, in parallel. Any failure drops what was prepared elsewhere and rejects (the old
 * version serves on, untouched).
 * @throws IsoError 422 (source), 503 (a worker went away), 500.
 */
export async function prepareRedeploy(slots: readonly Slot[], spec: DeploySpec, log: Log): Promise<PreparedRedeploy> {
  const { httpdid } = spec;
  const results = await Promise.allSettled(
    slots.map(async (slot) => {
      const worker = await slot.worker;
      await step(worker, { op: 'prepare', httpdid, source: spec.source, limits: spec.limits, exposeErrors: spec.exposeErrors, env: spec.env, egress: spec.egress });
      return { slot, worker };
    }),
  );
  const prepared = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const abort = async (): Promise<void> => {
    await Promise.all(prepared.map(({ worker }) => step(worker, { op: 'abort', httpdid }).catch(() => undefined)));
  };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await abort();
    throw failed.reason;
  }
  const commit = async (): Promise<void> => {
    // From now on a replaced worker hosts the new version (where and how it listens, a virtual host's place included, stays as it was placed).
    for (const slot of slots) {
      const placed = slot.specs.get(httpdid);
      if (placed !== undefined) slot.specs.set(httpdid, { ...placed, source: spec.source, limits: spec.limits, exposeErrors: spec.exposeErrors, env: spec.env });
    }
    await Promise.all(
      prepared.map(async ({ slot, worker }) => {
        try {
          await step(worker, { op: 'commit', httpdid });
        } catch (err) {
          log.warn({ httpdid, worker: slot.index, err }, 'redeploy commit did not reach the worker; preparing again on its current worker');
          await swapOn(slot, spec, log);
        }
      }),
    );
  };
  return { commit, abort };
}

/** Prepares and commits on a slot's current worker (after its worker was replaced during a redeploy). */
async function swapOn(slot: Slot, spec: DeploySpec, log: Log): Promise<void> {
  try {
    const worker = await slot.worker;
    await step(worker, { op: 'prepare', httpdid: spec.httpdid, source: spec.source, limits: spec.limits, exposeErrors: spec.exposeErrors, env: spec.env, egress: spec.egress });
    await step(worker, { op: 'commit', httpdid: spec.httpdid });
  } catch (err) {
    log.error({ httpdid: spec.httpdid, worker: slot.index, err }, 'redeploy on a replaced worker failed');
  }
}
