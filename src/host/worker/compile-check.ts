// The compile check (`check` op): a deploy's instantiation of a tenant module, in a fresh isolate disposed at once; nothing is bound or served, and the check is charged to no server (none exists yet).

import type { SandboxHooks } from '../../sandbox/tenant-sandbox.js';
import { ServerEgress } from './egress/outbound.js';
import type { WorkerHooks } from './hosted-server.js';
import type { ToWorker } from './protocol.js';
import { ServerVersion } from './server-version.js';

/** The httpdid a compile check's isolate is charged to, were isolated-vm to lose control of it: none (no server exists yet; 0 is no httpdid). */
export const CHECK_HTTPDID = 0;

/** A check's outbound fetch counts nowhere: the module is evaluated for its errors only. */
const UNCOUNTED = { subrequest: (): void => undefined, bytes: (): void => undefined, refused: (): void => undefined };

/**
 * Does what a deploy does to instantiate `msg.source` (ServerVersion.compile: a ready isolate from
 * the worker's pool when there is one for these limits, the prelude, compile, evaluate the module
 * under `timeoutMs` and `memoryMb`, check its default export), then disposes the isolate. One
 * isolate, whatever `limits.isolates`: a deploy's other isolates are the same source instantiated
 * side by side, and a check holds no more memory than one. Console output of the module's top
 * level is dropped (no server has a log yet).
 * @throws IsoError 422 ISO_ERR_API_INVALID_SOURCE with the message a deploy gives; 500.
 */
export async function compileCheck(msg: Extract<ToWorker, { op: 'check' }>, hooks: WorkerHooks): Promise<void> {
  const egress = new ServerEgress(hooks.egressNetworks, UNCOUNTED);
  try {
    const limits = { ...msg.limits, isolates: 1 };
    const sandbox = await ServerVersion.compile(msg.source, limits, checkHooks(hooks), msg.env, egress.forVersion(msg.egress, limits));
    await sandbox.close();
  } finally {
    await egress.close();
  }
}

/** The sandbox's callbacks for a check: a lost isolate retires the worker charged to no server; console lines are dropped. */
function checkHooks(hooks: WorkerHooks): SandboxHooks {
  return {
    onCatastrophicError: (m, disposed) => hooks.onCatastrophic(CHECK_HTTPDID, `the isolate of a compile check, attributed to no server (none exists yet): ${m}`, disposed),
    onConsole: () => undefined,
  };
}
