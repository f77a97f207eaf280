// Compile checks of handler sources on the pool's workers (the `check` op): a source that a deploy would refuse is refused before any server exists, isolates never run in the control process.

import { IsoError } from '../../core/errors.js';
import type { DeploySpec, Slot } from './slot.js';

/** What a compile check needs of a server version: what a deploy of it sends, without a server (no httpdid, address or handle). */
export type CheckSpec = Pick<DeploySpec, 'source' | 'limits' | 'exposeErrors' | 'env' | 'egress'>;

/**
 * The slot a compile check goes to: of the shared slots (quarantine ones host one server only),
 * those with a worker up and not being retired, else any shared one (its replacement is awaited);
 * the one with the fewest checks running, then the fewest servers, then the lowest index.
 * @throws IsoError 503 when the pool has no shared slot.
 */
export function checkSlot(slots: readonly Slot[]): Slot {
  const shared = slots.filter((s) => s.dedicatedTo === null);
  const up = shared.filter((s) => s.live !== null && !s.live.exited && s.retiring === null);
  const [best] = (up.length > 0 ? up : shared).toSorted((a, b) => a.checks - b.checks || a.specs.size - b.specs.size || a.index - b.index);
  if (best === undefined) throw new IsoError('ISO_ERR_API_WORKER_UNAVAILABLE', 'no sandbox worker to check the source on');
  return best;
}

/**
 * Instantiates `spec`'s source on `slot`'s worker as a deploy would, and disposes it there. A worker
 * that dies meanwhile (a hostile module can blow its isolate's memory) fails the check with 503;
 * its exit is the slot keeper's, as any crash, its log line saying a check was running (charged to
 * no server: none exists yet).
 * @throws IsoError 422 ISO_ERR_API_INVALID_SOURCE with the message a deploy gives, 503 (the worker went away or did not answer in time), 500.
 */
export async function checkOn(slot: Slot, spec: CheckSpec): Promise<void> {
  const { source, limits, exposeErrors, env, egress } = spec;
  slot.checks++;
  try {
    const reply = await (await slot.worker).request({ op: 'check', source, limits, exposeErrors, env, egress });
    if (!reply.ok) throw new IsoError(reply.code, reply.message);
  } finally {
    slot.checks--;
  }
}
