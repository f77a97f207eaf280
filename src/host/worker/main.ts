// Entry point of a sandbox worker process: the IPC loop. Receives listening handles and handler sources from the control process and hands each op to the server it names.

// First: before any isolate is made (see the module).
import './young-generation.js';
import { IsoError } from '../../core/errors.js';
import { validator } from '../../core/schemas.js';
import { resolveLimits } from '../../core/limits.js';
import { DRAIN_FLUSH_MS, DRAIN_POLL_MS, READY_POOL_SIZE, RETIRE_DEADLINE_MS } from '../../core/supervision.js';
import { compileCheck } from './compile-check.js';
import { Contention } from './contention.js';
import { parseNetworks } from '../../core/cidr.js';
import { HostedServer, type WorkerHooks } from './hosted-server.js';
import { SharedAddresses } from './shared-address.js';
import { batchedReport, configureProxyProtocol } from './proxy-gate.js';
import { loadHeapGuard } from '../../sandbox/heap-guard.js';
import { usePool } from '../../sandbox/ready-pool.js';
import { dropPrivileges } from './privileges.js';
import { type FromWorker, type ServerCounters, type ToWorker, workerOptions } from './protocol.js';
import { backstopOptions, RssBackstop } from './rss-backstop.js';
import { TailFeed } from './tail-feed.js';

const hosted = new Map<number, HostedServer>();
/** The addresses this worker's virtual hosts share, one socket each. */
const addresses = new SharedAddresses();

function send(msg: FromWorker, then?: () => void): void {
  if (process.send === undefined || !process.connected) return;
  process.send(msg, undefined, {}, then);
}

/** Set once isolated-vm lost control of an isolate here: the worker is being retired. */
let retiring = false;

/** Servers given up after isolated-vm lost control of an isolate serving them. */
const abandoned = new Set<number>();
/** Servers whose loss of an isolate the control process was told of (once each). */
const reported = new Set<number>();

/**
 * isolated-vm has lost control of one of a server's isolates (an out-of-memory, or a call V8 could
 * not interrupt outlasting its termination wait): that isolate's thread never comes back. The server
 * is given up on this worker (its requests answered now), unless the isolate lost was one the host
 * had already disposed (`disposed`: its requests answered at their deadline; the calls running on
 * its fresh isolate finish, new requests are refused here and new connections wait for the fresh
 * worker); the others serve on while the control process hosts them all on a fresh worker, then
 * drains this one and kills it. Should the control process not do so in time, the worker kills itself.
 */
function onCatastrophic(httpdid: number, message: string, disposed = false): void {
  // One incident per server: its servers are given up at the first, so a second report for the same
  // server (the RSS backstop seeing the memory isolated-vm's out-of-memory error is about) is not a new one.
  if (!disposed && !abandoned.has(httpdid)) {
    abandoned.add(httpdid);
    hosted.get(httpdid)?.abandon(message);
  }
  // New connections wait for the fresh worker (the sandbox refuses new requests here, see TenantSandbox).
  if (disposed) hosted.get(httpdid)?.windDown();
  if (reported.has(httpdid)) return;
  reported.add(httpdid);
  send({ op: 'retire', httpdid, message });
  if (retiring) return;
  retiring = true;
  // SIGKILL, not process.exit(): exit runs isolated-vm's thread-pool destructor (thread_pool.cc),
  // which waits for the lost isolate's thread, which never returns.
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), RETIRE_DEADLINE_MS).unref();
}

/** Servers whose requests in their sandbox went from 0 to 1 or back to 0 this event-loop turn (told once per turn). */
const justRunning = new Set<number>();
/** The servers the control process was last told run a request (by a `running` message or the heartbeat answer). */
const toldRunning = new Set<number>();

/** Tells the control process, once per event-loop turn, which servers started or stopped running requests (crash blame). */
function running(httpdid: number): void {
  if (justRunning.size === 0) setImmediate(flushRunning);
  justRunning.add(httpdid);
}

/**
 * Sends only the servers whose state differs from what the control process was last told: a turn in
 * which a server's last request ended and a new one started (a batch answered while the next requests
 * arrived, the usual case under keep-alive load) changes nothing there. Under wrk this left about one
 * message in ten (about 1 per 8 requests before).
 */
function flushRunning(): void {
  const inFlight: Record<string, number> = {};
  let changed = false;
  for (const id of justRunning) {
    const n = hosted.get(id)?.inFlight ?? 0;
    if (n > 0 === toldRunning.has(id)) continue;
    if (n > 0) toldRunning.add(id);
    else toldRunning.delete(id);
    inFlight[String(id)] = n;
    changed = true;
  }
  justRunning.clear();
  if (changed) send({ op: 'running', inFlight });
}

const hooks: WorkerHooks = {
  send: (msg) => send(msg),
  onCatastrophic,
  contention: new Contention(),
  running,
  tail: new TailFeed((msg) => send(msg)),
  // Validated by the control process's config (schemas/config.json, config.ts).
  egressNetworks: parseNetworks(workerOptions(process.argv).egressAllowNetworks ?? []),
};

// Validated by the control process's config too; connections from these networks must start with a PROXY v2 header.
configureProxyProtocol(
  parseNetworks(workerOptions(process.argv).proxyProtocolFrom ?? []),
  batchedReport((peer, reason, count) => send({ op: 'proxyRefused', peer, reason, count })),
);

function hostedOrThrow(httpdid: number): HostedServer {
  const h = hosted.get(httpdid);
  if (h === undefined) throw new IsoError('ISO_ERR_API_INTERNAL', `server ${httpdid} is not hosted on this worker`);
  return h;
}

/** Deploys, prepares and compile checks under way: their module evaluation's memory is not yet a hosted server's (the RSS backstop waits for them). */
let compiling = 0;

/** Runs `f` counted in {@link compiling}. */
async function compile<T>(f: () => Promise<T>): Promise<T> {
  compiling++;
  try {
    return await f();
  } finally {
    compiling--;
  }
}

async function deploy(msg: Extract<ToWorker, { op: 'deploy' }>, handle: unknown): Promise<void> {
  if (hosted.has(msg.httpdid)) throw new IsoError('ISO_ERR_API_INTERNAL', `server ${msg.httpdid} is already deployed on this worker`);
  hosted.set(msg.httpdid, await compile(() => HostedServer.deploy(msg, handle, hooks, addresses)));
}

/** Compiles a new version of a server next to the serving one (hot redeploy, step 1). */
async function prepare(msg: Extract<ToWorker, { op: 'prepare' }>): Promise<void> {
  const h = hostedOrThrow(msg.httpdid);
  await compile(() => h.prepare(msg.source, msg.limits, msg.exposeErrors, msg.env, msg.egress));
}

/** Stops hosting a server; after `drainMs` of winding down (its requests in flight finished) if given, ms. */
async function undeploy(httpdid: number, drainMs = 0): Promise<void> {
  const h = hosted.get(httpdid);
  if (h === undefined) return;
  if (drainMs > 0) {
    await windDown([h], drainMs);
    // Deployed here again meanwhile: that one stays.
    if (hosted.get(httpdid) !== h) return;
  }
  hosted.delete(httpdid);
  await h.close();
}

/** Graceful stop: no new connections, idle ones closed, busy ones closed after their response; resolves once every connection has closed (none is in flight), or after `timeoutMs`. */
function drain(timeoutMs: number): Promise<void> {
  return windDown([...hosted.values()], timeoutMs);
}

/** Winds `servers` down (see {@link drain}) and resolves once none has a connection or a request in flight, or after `timeoutMs`. */
async function windDown(servers: readonly HostedServer[], timeoutMs: number): Promise<void> {
  for (const h of servers) h.windDown();
  const deadline = Date.now() + timeoutMs;
  // Wound down, every connection closes: idle ones now, busy ones after their response, one just accepted after its first.
  const busy = (): boolean => servers.some((h) => h.inFlight > 0 || h.connections > 0);
  while (busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
  // A response just handed to its socket may still sit in userland buffers: give it a moment to reach the kernel.
  await new Promise((r) => setTimeout(r, DRAIN_FLUSH_MS));
}

function run(msg: Exclude<ToWorker, { op: 'ping' | 'stats' }>, handle: unknown): Promise<void> {
  switch (msg.op) {
    case 'deploy':
      return deploy(msg, handle);
    case 'undeploy':
      return undeploy(msg.httpdid, msg.drainMs);
    case 'prepare':
      return prepare(msg);
    case 'check':
      return compile(() => compileCheck(msg, hooks));
    case 'commit':
      return Promise.resolve().then(() => hostedOrThrow(msg.httpdid).commit());
    case 'abort':
      return Promise.resolve().then(() => hosted.get(msg.httpdid)?.abort());
    case 'drain':
      return drain(msg.timeoutMs);
    case 'tail':
      return Promise.resolve().then(() => hooks.tail.set(msg.httpdids));
  }
}

/** Every hosted server's counters now, keyed by httpdid (the heartbeat answer). */
function snapshot(): Record<string, ServerCounters> {
  const out: Record<string, ServerCounters> = {};
  for (const [id, h] of hosted) out[String(id)] = h.snapshot();
  return out;
}

/** The servers with a request in their sandbox now (the heartbeat answer, which replaces what the control process was told). */
function runningNow(): number[] {
  const ids = [...hosted.values()].filter((h) => h.inFlight > 0).map((h) => h.httpdid);
  toldRunning.clear();
  for (const id of ids) toldRunning.add(id);
  return ids;
}

process.on('message', (raw: ToWorker, handle: unknown) => {
  if (raw.op === 'ping' || raw.op === 'stats') {
    send({ op: 'reply', id: raw.id, ok: true, stats: snapshot(), running: runningNow() });
    if (raw.op === 'ping') for (const h of hosted.values()) h.sampleHeap();
    return;
  }
  run(raw, handle).then(
    // A drained worker's counters are final: they go with the answer (its last heartbeat may be older).
    () => send(raw.op === 'drain' ? { op: 'reply', id: raw.id, ok: true, stats: snapshot() } : { op: 'reply', id: raw.id, ok: true }),
    (err: unknown) => {
      const e = err instanceof IsoError ? err : new IsoError('ISO_ERR_API_INTERNAL', (err as Error).message);
      send({ op: 'reply', id: raw.id, ok: false, code: e.code, message: e.message });
    },
  );
});

// The control process holds every listening socket; without it this worker has no reason to live.
// A worker that lost an isolate's thread kills itself instead: exit would wait for that thread (see onCatastrophic).
process.on('disconnect', () => (retiring ? process.kill(process.pid, 'SIGKILL') : process.exit(0)));
// Ctrl-C, and SIGTERM to the process group (systemd's KillMode=control-group, `kill -- -PGID`), reach
// every process: the control process decides when workers stop (after draining). The worker still
// exits when the control process goes away (disconnect, above); SIGKILL still kills it.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
// Everything read from disk is read now: after this the worker may run as an unprivileged user.
validator('response-dict');
loadHeapGuard();
const dropped = dropPrivileges();
send({ op: 'ready', pid: process.pid, uid: dropped.uid, runtime: { node: process.versions.node, v8: process.versions.v8 } });
// The last guard of this process's memory: its budget starts from the resident set now (idle).
new RssBackstop(
  { servers: () => hosted.values(), compiling: () => compiling, rss: () => process.memoryUsage.rss(), report: (e) => send({ op: 'memory', ...e }), retire: onCatastrophic },
  backstopOptions(workerOptions(process.argv).rssLimitMb),
).start();
// Ready isolates for deploys with the default limits (src/sandbox/ready-pool.ts). One lost before a
// tenant claimed it ran no tenant code: the worker retires (its servers move to a fresh one), charged to none.
usePool(resolveLimits(undefined), READY_POOL_SIZE, (m) => onCatastrophic(0, `a ready isolate, before any tenant code ran in it: ${m}`));
