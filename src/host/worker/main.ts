// Entry point of a sandbox worker process: receives listening handles and handler sources, serves their connections from isolates, swaps versions in place.

import net from 'node:net';
import { IsoError } from '../../core/errors.js';
import { emptyHistogram, observe } from '../../core/histogram.js';
import type { Limits } from '../../core/limits.js';
import { OUTCOMES, type Outcome } from '../../core/outcome.js';
import { validator } from '../../core/schemas.js';
import { SourceError, TenantSandbox } from '../../sandbox/tenant-sandbox.js';
import { serializeError } from '../http1/response-writer.js';
import { Connection, type ServerContext } from './connection.js';
import { CpuShare } from './cpu-share.js';
import { dropPrivileges } from './privileges.js';
import type { FromWorker, ServerCounters, ToWorker } from './protocol.js';

/** One version of a hosted server: its isolate and limits. Connections keep the context of the version they were accepted under (its connection limits); requests always go to the current version. */
interface Generation {
  readonly sandbox: TenantSandbox;
  readonly limits: Limits;
  readonly ctx: ServerContext;
  /** Requests running on this version's sandbox. */
  inFlight: number;
  /** Replaced by a newer version: disposed once `inFlight` reaches 0. */
  retired: boolean;
}

interface Hosted {
  readonly httpdid: number;
  server: net.Server | null;
  current: Generation | null;
  /** A version compiled by `prepare`, waiting for `commit`. */
  pending: Generation | null;
  /** Replaced versions that still run requests. */
  readonly retiring: Set<Generation>;
  readonly connections: Set<Connection>;
  readonly sockets: Set<net.Socket>;
  /** Cumulative counters; `bytesIn`/`bytesOut` hold the sockets already closed (live ones are added at snapshot time). */
  readonly counters: ServerCounters;
  sampling: boolean;
  readonly cpu: CpuShare;
  /** Run time of this server's closed sandboxes (older versions), ns, so the CPU share never counts backwards. */
  closedBusyNs: bigint;
}

const hosted = new Map<number, Hosted>();
/** Servers of this worker with requests in the sandbox now (for the CPU share: is anyone else waiting?). */
let serversBusy = 0;
/** The last two servers that started a request, and when (performance.now(), ms), newest first. */
const recentlyActive: Array<{ httpdid: number; at: number }> = [];
/** A neighbour that started a request this recently still counts as wanting the time, ms. */
const CONTENTION_MS = 1000;

function markActive(httpdid: number): void {
  const now = performance.now();
  const first = recentlyActive[0];
  if (first !== undefined && first.httpdid === httpdid) first.at = now;
  else {
    recentlyActive.unshift({ httpdid, at: now });
    recentlyActive.length = Math.min(recentlyActive.length, 2);
  }
}

/** Whether another server of this worker has requests in its sandbox, or started one within {@link CONTENTION_MS}. */
function contended(h: Hosted): boolean {
  if (serversBusy - (h.counters.inFlight > 0 ? 1 : 0) > 0) return true;
  const now = performance.now();
  return recentlyActive.some((r) => r.httpdid !== h.httpdid && now - r.at < CONTENTION_MS);
}

function newCounters(): ServerCounters {
  return {
    inFlight: 0,
    outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
    latency: emptyHistogram(),
    bytesIn: 0,
    bytesOut: 0,
    heapUsed: 0,
  };
}

/** Starts a heap sample of each server's current isolate (one at a time per server; the result is sent with a later heartbeat). */
function sampleHeaps(): void {
  for (const h of hosted.values()) {
    const gen = h.current;
    if (h.sampling || gen === null) continue;
    h.sampling = true;
    void gen.sandbox.heapUsed().then((bytes) => {
      h.counters.heapUsed = bytes;
      h.sampling = false;
    });
  }
}

function snapshot(): Record<string, ServerCounters> {
  const out: Record<string, ServerCounters> = {};
  for (const [id, h] of hosted) {
    const c = h.counters;
    let bytesIn = c.bytesIn;
    let bytesOut = c.bytesOut;
    for (const s of h.sockets) {
      bytesIn += s.bytesRead;
      bytesOut += s.bytesWritten;
    }
    out[String(id)] = {
      inFlight: c.inFlight,
      outcomes: { ...c.outcomes },
      latency: { counts: [...c.latency.counts], sumMs: c.latency.sumMs },
      bytesIn,
      bytesOut,
      heapUsed: c.heapUsed,
    };
  }
  return out;
}

function send(msg: FromWorker, then?: () => void): void {
  if (process.send === undefined || !process.connected) return;
  process.send(msg, undefined, {}, then);
}

function onCatastrophic(httpdid: number, message: string): void {
  // isolated-vm has lost control of an isolate: this process cannot be trusted to go on.
  for (const h of hosted.values()) h.server?.close();
  // SIGKILL, not process.exit(): exit runs isolated-vm's thread-pool destructor (thread_pool.cc),
  // which waits for the isolate's thread, and that thread sleeps for good in isolated-vm's OOM
  // callback, so the worker would hang until the heartbeat killed it. The report is sent first.
  const die = (): void => void process.kill(process.pid, 'SIGKILL');
  send({ op: 'catastrophic', httpdid, message }, die);
  setTimeout(die, 500).unref();
}

/** Compiles and evaluates a version of a server's handler. @throws IsoError 422 for a source that cannot be used. */
async function createSandbox(httpdid: number, source: string, limits: Limits): Promise<TenantSandbox> {
  try {
    return await TenantSandbox.create(source, limits, {
      onCatastrophicError: (m) => onCatastrophic(httpdid, m),
      onConsole: (lines) => send({ op: 'console', httpdid, time: Date.now(), lines }),
    });
  } catch (err) {
    if (err instanceof SourceError) throw new IsoError('ISO_ERR_API_INVALID_SOURCE', err.message);
    throw err;
  }
}

/** Wraps a sandbox as a version of `h`. Its context's `invoke` runs each request on whichever version is current when the request starts. */
function generation(h: Hosted, sandbox: TenantSandbox, limits: Limits): Generation {
  const { counters } = h;
  const ctx: ServerContext = {
    refuse: (head) => h.cpu.refuse(head),
    httpdid: h.httpdid,
    limits,
    invoke: async (json, body) => {
      const gen = h.current ?? self;
      gen.inFlight++;
      if (counters.inFlight++ === 0) serversBusy++;
      markActive(h.httpdid);
      try {
        return await gen.sandbox.invoke(json, body);
      } finally {
        if (--counters.inFlight === 0) serversBusy--;
        if (--gen.inFlight === 0 && gen.retired) void disposeRetired(h, gen);
      }
    },
    report: (outcome: Outcome, detail: string | null, startedAt: number) => {
      counters.outcomes[outcome]++;
      observe(counters.latency, performance.now() - startedAt);
      if (outcome !== 'ok') send({ op: 'outcome', httpdid: h.httpdid, outcome, detail: detail ?? '' });
    },
  };
  const self: Generation = { sandbox, limits, ctx, inFlight: 0, retired: false };
  return self;
}

async function disposeRetired(h: Hosted, gen: Generation): Promise<void> {
  h.retiring.delete(gen);
  h.closedBusyNs += gen.sandbox.busyNs;
  await gen.sandbox.close();
}

/** The run time of every version of a server this worker has run, ns (monotonic). */
function busyNs(h: Hosted): bigint {
  let ns = h.closedBusyNs;
  if (h.current !== null) ns += h.current.sandbox.busyNs;
  for (const g of h.retiring) ns += g.sandbox.busyNs;
  return ns;
}

async function deploy(msg: Extract<ToWorker, { op: 'deploy' }>, handle: unknown): Promise<void> {
  const closeHandle = (): void => (handle as { close?: () => void } | undefined)?.close?.();
  if (hosted.has(msg.httpdid)) throw new IsoError('ISO_ERR_API_INTERNAL', `server ${msg.httpdid} is already deployed on this worker`);
  if (handle === undefined) throw new IsoError('ISO_ERR_API_INTERNAL', 'deploy arrived without a listening handle');
  let sandbox: TenantSandbox;
  try {
    sandbox = await createSandbox(msg.httpdid, msg.source, msg.limits);
  } catch (err) {
    closeHandle();
    throw err;
  }
  const h: Hosted = {
    httpdid: msg.httpdid,
    server: null,
    current: null,
    pending: null,
    retiring: new Set(),
    connections: new Set(),
    sockets: new Set(),
    counters: newCounters(),
    sampling: false,
    closedBusyNs: 0n,
    // The policy reads the limits of the version serving now (a redeploy may change them).
    cpu: new CpuShare(
      {
        get cpuShare() {
          return (h.current?.limits ?? msg.limits).cpuShare;
        },
        get cpuShareWindowMs() {
          return (h.current?.limits ?? msg.limits).cpuShareWindowMs;
        },
        get cpuCooldownMs() {
          return (h.current?.limits ?? msg.limits).cpuCooldownMs;
        },
      },
      { busyNs: () => busyNs(h), inFlight: () => h.counters.inFlight, contended: () => contended(h) },
      (e) => send({ op: 'throttled', httpdid: msg.httpdid, ...e }),
    ),
  };
  const first = generation(h, sandbox, msg.limits);
  h.current = first;
  const { connections, sockets, counters } = h;
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      counters.bytesIn += socket.bytesRead;
      counters.bytesOut += socket.bytesWritten;
    });
    const gen = h.current ?? first;
    if (connections.size >= gen.limits.maxConnections) {
      socket.on('error', () => socket.destroy());
      const { chunks } = serializeError('ISO_ERR_HTTP_TOO_MANY_CONNECTIONS', 'too many open connections to this server', null);
      socket.end(Buffer.concat(chunks));
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    const conn = new Connection(socket, gen.ctx);
    connections.add(conn);
    socket.once('close', () => connections.delete(conn));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(handle as net.ListenOptions, () => {
      server.off('error', reject);
      const addr = server.address();
      // Never serve on a port other than the one asked for (see bindHandle).
      if (typeof addr === 'object' && addr !== null && addr.port === msg.port) resolve();
      else server.close(() => reject(Object.assign(new Error('socket is not bound to the requested port'), { code: 'EADDRINUSE' })));
    });
  }).catch(async (err: unknown) => {
    h.cpu.close();
    await sandbox.close();
    closeHandle();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new IsoError('ISO_ERR_API_ADDRESS_IN_USE', `port ${msg.port} is already in use`);
    throw new IsoError('ISO_ERR_API_BIND_FAILED', `listen failed: ${(err as Error).message}`);
  });
  h.server = server;
  hosted.set(msg.httpdid, h);
}

function hostedOrThrow(httpdid: number): Hosted {
  const h = hosted.get(httpdid);
  if (h === undefined) throw new IsoError('ISO_ERR_API_INTERNAL', `server ${httpdid} is not hosted on this worker`);
  return h;
}

/** Compiles a new version next to the serving one; nothing switches yet. */
async function prepare(msg: Extract<ToWorker, { op: 'prepare' }>): Promise<void> {
  const h = hostedOrThrow(msg.httpdid);
  dropPending(h);
  const sandbox = await createSandbox(msg.httpdid, msg.source, msg.limits);
  if (hosted.get(msg.httpdid) !== h) {
    await sandbox.close();
    throw new IsoError('ISO_ERR_API_INTERNAL', `server ${msg.httpdid} was stopped during the redeploy`);
  }
  dropPending(h);
  h.pending = generation(h, sandbox, msg.limits);
}

/** Switches new requests (and new connections) to the prepared version; the old one is disposed after its in-flight requests. */
function commit(httpdid: number): void {
  const h = hostedOrThrow(httpdid);
  const next = h.pending;
  if (next === null) throw new IsoError('ISO_ERR_API_INTERNAL', `no version of server ${httpdid} is prepared on this worker`);
  const old = h.current;
  h.pending = null;
  h.current = next;
  if (old === null) return;
  old.retired = true;
  if (old.inFlight === 0) void disposeRetired(h, old);
  else h.retiring.add(old);
}

function dropPending(h: Hosted): void {
  const p = h.pending;
  h.pending = null;
  if (p !== null) void p.sandbox.close();
}

async function undeploy(httpdid: number): Promise<void> {
  const h = hosted.get(httpdid);
  if (h === undefined) return;
  hosted.delete(httpdid);
  await new Promise<void>((resolve) => {
    if (h.server === null) resolve();
    else h.server.close(() => resolve());
    for (const c of h.connections) c.destroy();
  });
  dropPending(h);
  h.cpu.close();
  await Promise.all([h.current, ...h.retiring].map((g) => g?.sandbox.close()));
}

function run(msg: Exclude<ToWorker, { op: 'ping' }>, handle: unknown): Promise<void> {
  switch (msg.op) {
    case 'deploy':
      return deploy(msg, handle);
    case 'undeploy':
      return undeploy(msg.httpdid);
    case 'prepare':
      return prepare(msg);
    case 'commit':
      return Promise.resolve().then(() => commit(msg.httpdid));
    case 'abort':
      return Promise.resolve().then(() => {
        const h = hosted.get(msg.httpdid);
        if (h !== undefined) dropPending(h);
      });
    case 'drain':
      return drain(msg.timeoutMs);
  }
}

/** Graceful stop: no new connections; resolves once no request is in flight, or after `timeoutMs`. */
async function drain(timeoutMs: number): Promise<void> {
  for (const h of hosted.values()) h.server?.close();
  const deadline = Date.now() + timeoutMs;
  const busy = (): boolean => [...hosted.values()].some((h) => h.counters.inFlight > 0);
  while (busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  // A response just handed to its socket may still sit in userland buffers: give it a moment to reach the kernel.
  await new Promise((r) => setTimeout(r, 100));
}

process.on('message', (raw: ToWorker, handle: unknown) => {
  if (raw.op === 'ping') {
    send({ op: 'reply', id: raw.id, ok: true, stats: snapshot() });
    sampleHeaps();
    return;
  }
  run(raw, handle).then(
    () => send({ op: 'reply', id: raw.id, ok: true }),
    (err: unknown) => {
      const e = err instanceof IsoError ? err : new IsoError('ISO_ERR_API_INTERNAL', (err as Error).message);
      send({ op: 'reply', id: raw.id, ok: false, code: e.code, message: e.message });
    },
  );
});

// The control process holds every listening socket; without it this worker has no reason to live.
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group: the control process decides when workers stop (after draining).
process.on('SIGINT', () => undefined);
// Everything read from disk is read now: after this the worker may run as an unprivileged user.
validator('response-dict');
const dropped = dropPrivileges();
send({ op: 'ready', pid: process.pid, uid: dropped.uid, runtime: { node: process.versions.node, v8: process.versions.v8 } });
