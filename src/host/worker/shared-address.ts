// Virtual hosts on this worker: one listening socket per shared address, whose connections each find their server by the Host of their first request (exact name, then the longest wildcard suffix, then the address's fallback server, else 421).

import net from 'node:net';
import { IsoError } from '../../core/errors.js';
import { HostTable, hostOfAuthority } from '../../core/hostnames.js';
import type { Limits } from '../../core/limits.js';
import { serializeError } from '../http1/response-writer.js';
import { Connection } from './connection.js';
import { mustSendProxyHeader, type Proxied, readProxyHeader } from './proxy-gate.js';
import { freshRequestId } from './request-ids.js';
import type { HostRouter, PinnedConnection, ServerContext, VirtualHost } from './server-context.js';
import { listenOn } from './listener.js';
import { LINGER_MS } from './socket-output.js';

/** The limits read before a connection is routed: each the largest of the address's servers' (a tenant cannot shrink its neighbours' heads). */
const HEAD_LIMITS = ['maxRequestLineBytes', 'maxHeaderBytes', 'maxHeaderFields', 'headersTimeoutMs', 'requestTimeoutMs', 'keepAliveTimeoutMs', 'maxBodyBytes', 'maxPipelinedRequests'] as const;

/** A hosted server's membership of a shared address: its hostnames, the connections pinned to it, its counters' socket tracking. */
export class VirtualHostMember implements VirtualHost {
  readonly httpdid: number;
  readonly hostnames: readonly string[];
  /** Whether it answers the Hosts no server of the address claims (config `virtualHosts.fallbackServers`). */
  readonly fallback: boolean;
  readonly #current: () => ServerContext;
  readonly #track: (socket: net.Socket) => void;
  readonly #pinned = new Set<PinnedConnection>();
  #address: SharedAddress | null = null;
  #woundDown = false;

  /**
   * @param current the context of the server's version serving now
   * @param track counts a socket's bytes in the server's counters (from the moment it is pinned)
   */
  constructor(httpdid: number, hostnames: readonly string[], fallback: boolean, current: () => ServerContext, track: (socket: net.Socket) => void) {
    this.httpdid = httpdid;
    this.hostnames = hostnames;
    this.fallback = fallback;
    this.#current = current;
    this.#track = track;
  }

  context(): ServerContext {
    return this.#current();
  }

  pin(conn: PinnedConnection, socket: net.Socket): boolean {
    if (this.#address === null || this.#pinned.size >= this.#current().limits.maxConnections) return false;
    this.#pinned.add(conn);
    this.#track(socket);
    socket.once('close', () => this.#pinned.delete(conn));
    if (this.#woundDown) conn.windDown();
    return true;
  }

  /** Connections pinned to it now. */
  get connections(): number {
    return this.#pinned.size;
  }

  /** Joins the shared address `key` on this worker (listening on `handle` if it is the first there). */
  async join(addresses: SharedAddresses, key: string, port: number, handle: unknown): Promise<void> {
    const address = addresses.join(key, port, handle, this);
    this.#address = address;
    try {
      await address.ready;
    } catch (err) {
      this.#address = null;
      address.leave(this);
      throw err;
    }
  }

  /** Winds its pinned connections down (the worker drains, or the server moves); the address stops accepting once all its servers are wound down. */
  windDown(): void {
    this.#woundDown = true;
    for (const c of this.#pinned) c.windDown();
    this.#address?.woundDown();
  }

  /** Leaves the address (closed once no server is left) and destroys its pinned connections. */
  async close(): Promise<void> {
    const address = this.#address;
    this.#address = null;
    for (const c of this.#pinned) c.destroy();
    if (address !== null) await address.leave(this);
  }

  /** Whether {@link windDown} was called. */
  get woundDown(): boolean {
    return this.#woundDown;
  }
}

/** One address shared by virtual hosts on this worker: the socket, the host table, the connections not yet routed. */
class SharedAddress implements HostRouter {
  readonly ready: Promise<void>;
  readonly #server: net.Server;
  readonly #members = new Set<VirtualHostMember>();
  readonly #table = new HostTable<VirtualHostMember>();
  readonly #connections = new Set<Connection>();
  /** Connections from a balancer whose PROXY header is not in yet: each the function that abandons it. */
  readonly #pending = new Set<() => void>();
  readonly #onEmpty: () => void;

  constructor(port: number, handle: unknown, onEmpty: () => void) {
    this.#onEmpty = onEmpty;
    this.#server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => this.#accept(socket));
    this.ready = listenOn(this.#server, handle, port);
    this.ready.catch(() => undefined);
  }

  get limits(): Limits {
    let out: { -readonly [K in keyof Limits]: Limits[K] } | null = null;
    for (const m of this.#members) {
      const l = m.context().limits;
      if (out === null) out = { ...l };
      else for (const k of HEAD_LIMITS) out[k] = Math.max(out[k], l[k]);
    }
    if (out === null) throw new IsoError('ISO_ERR_API_INTERNAL', 'a shared address without servers');
    return out;
  }

  route(authority: string | null): VirtualHost | null {
    return this.#table.route(hostOfAuthority(authority));
  }

  add(member: VirtualHostMember): void {
    this.#members.add(member);
    this.#table.add(member.hostnames, member, member.fallback);
  }

  /** A server leaves; the last one closes the socket and every connection. */
  async leave(member: VirtualHostMember): Promise<void> {
    if (!this.#members.delete(member)) return;
    this.#table.remove(member);
    if (this.#members.size > 0) return;
    this.#onEmpty();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const abandon of this.#pending) abandon();
      for (const c of this.#connections) c.destroy();
    });
  }

  /** A server wound down: once all are, no new connection is accepted and the open ones wind down. */
  woundDown(): void {
    for (const m of this.#members) if (!m.woundDown) return;
    this.#server.close();
    for (const abandon of this.#pending) abandon();
    for (const c of this.#connections) c.windDown();
  }

  #accept(socket: net.Socket): void {
    let cap = 0;
    for (const m of this.#members) cap += m.context().limits.maxConnections;
    if (this.#members.size === 0 || this.#connections.size + this.#pending.size >= cap) {
      socket.on('error', () => socket.destroy());
      const { chunks } = serializeError('ISO_ERR_HTTP_TOO_MANY_CONNECTIONS', 'too many open connections to this address', null, { 'X-Request-Id': freshRequestId() });
      socket.end(Buffer.concat(chunks));
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
      return;
    }
    const limits = this.limits;
    if (mustSendProxyHeader(socket)) {
      const abandon = readProxyHeader(socket, limits.headersTimeoutMs, (peer, rest) => {
        this.#pending.delete(abandon);
        this.#serve(socket, { peer, rest });
      });
      this.#pending.add(abandon);
      socket.once('close', () => this.#pending.delete(abandon));
      return;
    }
    this.#serve(socket, null);
  }

  #serve(socket: net.Socket, proxied: Proxied | null): void {
    const conn = new Connection(socket, unrouted(this.limits), this, proxied);
    this.#connections.add(conn);
    socket.once('close', () => this.#connections.delete(conn));
  }
}

/** The shared addresses of this worker, by the control process's key (`address|port`). */
export class SharedAddresses {
  readonly #byKey = new Map<string, SharedAddress>();

  /** Adds `member` to the address `key`, listening on `handle` if it is new here (else this copy of the socket is closed: the first one listens). */
  join(key: string, port: number, handle: unknown, member: VirtualHostMember): SharedAddress {
    let address = this.#byKey.get(key);
    if (address === undefined) {
      const created = new SharedAddress(port, handle, () => {
        if (this.#byKey.get(key) === created) this.#byKey.delete(key);
      });
      address = created;
      this.#byKey.set(key, address);
    } else (handle as { close?: () => void } | undefined)?.close?.();
    address.add(member);
    return address;
  }
}

/** The context of a connection not routed yet: only its limits are read (no request reaches a handler before it is routed). */
function unrouted(limits: Limits): ServerContext {
  const never = (): never => {
    throw new IsoError('ISO_ERR_API_INTERNAL', 'a request of a shared address reached no server');
  };
  return { httpdid: 0, limits, invoke: never, report: never, tailed: () => false, tail: never, exposeErrors: () => false };
}
