// Entry point of a sandbox worker process: receives listening handles and handler sources, serves their connections from isolates.

import net from 'node:net';
import { IsoError } from '../errors.js';
import { OUTCOMES, type Outcome } from '../outcome.js';
import { validator } from '../schemas.js';
import { SourceError, TenantSandbox } from '../sandbox/tenant-sandbox.js';
import { Connection, type ServerContext } from './connection.js';
import { serializeError } from './response-writer.js';
import { dropPrivileges } from './privileges.js';
import type { FromWorker, ServerCounters, ToWorker } from './worker-protocol.js';

interface Hosted {
  readonly server: net.Server;
  readonly sandbox: TenantSandbox;
  readonly connections: Set<Connection>;
  readonly counters: ServerCounters;
}

const hosted = new Map<number, Hosted>();

function newCounters(): ServerCounters {
  return { inFlight: 0, outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number> };
}

function snapshot(): Record<string, ServerCounters> {
  const out: Record<string, ServerCounters> = {};
  for (const [id, h] of hosted) out[String(id)] = { inFlight: h.counters.inFlight, outcomes: { ...h.counters.outcomes } };
  return out;
}

function send(msg: FromWorker, then?: () => void): void {
  if (process.send === undefined || !process.connected) return;
  process.send(msg, undefined, {}, then);
}

function onCatastrophic(httpdid: number, message: string): void {
  // isolated-vm has lost control of an isolate: this process cannot be trusted to go on.
  for (const h of hosted.values()) h.server.close();
  send({ op: 'catastrophic', httpdid, message }, () => process.exit(70));
  setTimeout(() => process.exit(70), 500).unref();
}

async function deploy(msg: Extract<ToWorker, { op: 'deploy' }>, handle: unknown): Promise<void> {
  const closeHandle = (): void => (handle as { close?: () => void } | undefined)?.close?.();
  if (hosted.has(msg.httpdid)) throw new IsoError('ISO_ERR_API_INTERNAL', `server ${msg.httpdid} is already deployed on this worker`);
  if (handle === undefined) throw new IsoError('ISO_ERR_API_INTERNAL', 'deploy arrived without a listening handle');
  let sandbox: TenantSandbox;
  try {
    sandbox = await TenantSandbox.create(msg.source, msg.limits, {
      onCatastrophicError: (m) => onCatastrophic(msg.httpdid, m),
      onConsole: (lines) => send({ op: 'console', httpdid: msg.httpdid, time: Date.now(), lines }),
    });
  } catch (err) {
    closeHandle();
    if (err instanceof SourceError) throw new IsoError('ISO_ERR_API_INVALID_SOURCE', err.message);
    throw err;
  }
  const connections = new Set<Connection>();
  const counters = newCounters();
  const ctx: ServerContext = {
    httpdid: msg.httpdid,
    limits: msg.limits,
    invoke: async (json, body) => {
      counters.inFlight++;
      try {
        return await sandbox.invoke(json, body);
      } finally {
        counters.inFlight--;
      }
    },
    report: (outcome: Outcome, detail: string | null) => {
      counters.outcomes[outcome]++;
      if (outcome !== 'ok') send({ op: 'outcome', httpdid: msg.httpdid, outcome, detail: detail ?? '' });
    },
  };
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => {
    if (connections.size >= msg.limits.maxConnections) {
      socket.on('error', () => socket.destroy());
      const { chunks } = serializeError('ISO_ERR_HTTP_TOO_MANY_CONNECTIONS', 'too many open connections to this server', null);
      socket.end(Buffer.concat(chunks));
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    const conn = new Connection(socket, ctx);
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
    await sandbox.close();
    closeHandle();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new IsoError('ISO_ERR_API_ADDRESS_IN_USE', `port ${msg.port} is already in use`);
    throw new IsoError('ISO_ERR_API_BIND_FAILED', `listen failed: ${(err as Error).message}`);
  });
  hosted.set(msg.httpdid, { server, sandbox, connections, counters });
}

async function undeploy(httpdid: number): Promise<void> {
  const h = hosted.get(httpdid);
  if (h === undefined) return;
  hosted.delete(httpdid);
  await new Promise<void>((resolve) => {
    h.server.close(() => resolve());
    for (const c of h.connections) c.destroy();
  });
  await h.sandbox.close();
}

/** Graceful stop: no new connections; resolves once no request is in flight, or after `timeoutMs`. */
async function drain(timeoutMs: number): Promise<void> {
  for (const h of hosted.values()) h.server.close();
  const deadline = Date.now() + timeoutMs;
  const busy = (): boolean => [...hosted.values()].some((h) => h.counters.inFlight > 0);
  while (busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  // A response just handed to its socket may still sit in userland buffers: give it a moment to reach the kernel.
  await new Promise((r) => setTimeout(r, 100));
}

process.on('message', (raw: ToWorker, handle: unknown) => {
  if (raw.op === 'ping') {
    send({ op: 'reply', id: raw.id, ok: true, stats: snapshot() });
    return;
  }
  const run = raw.op === 'deploy' ? deploy(raw, handle) : raw.op === 'drain' ? drain(raw.timeoutMs) : undeploy(raw.httpdid);
  run.then(
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
send({ op: 'ready', pid: process.pid, uid: dropped.uid });
