// The listening socket of one hosted server on this worker: listens on the handle the control process bound, accepts connections up to maxConnections, closes them all when the server stops.

import net from 'node:net';
import { IsoError } from '../../core/errors.js';
import { serializeError } from '../http1/response-writer.js';
import { freshRequestId } from './request-ids.js';
import { Connection } from './connection.js';
import { mustSendProxyHeader, type Proxied, readProxyHeader } from './proxy-gate.js';
import type { ServerContext } from './server-context.js';
import { LINGER_MS } from './socket-output.js';

/** Accepts one server's connections; each takes the context (and the limits) of the version current when it is accepted. */
export class Listener {
  readonly #server: net.Server;
  readonly #connections = new Set<Connection>();
  /** Connections from a balancer whose PROXY header is not in yet: each the function that abandons it. */
  readonly #pending = new Set<() => void>();

  /**
   * @param current the context of the version serving now
   * @param onSocket called with every accepted socket first (for the byte counters), refused ones included
   */
  constructor(current: () => ServerContext, onSocket: (socket: net.Socket) => void) {
    this.#server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => {
      onSocket(socket);
      const ctx = current();
      if (this.#connections.size + this.#pending.size >= ctx.limits.maxConnections) {
        socket.on('error', () => socket.destroy());
        const { chunks } = serializeError('ISO_ERR_HTTP_TOO_MANY_CONNECTIONS', 'too many open connections to this server', null, { 'X-Request-Id': freshRequestId() });
        socket.end(Buffer.concat(chunks));
        setTimeout(() => socket.destroy(), LINGER_MS).unref();
        return;
      }
      if (mustSendProxyHeader(socket)) {
        const abandon = readProxyHeader(socket, ctx.limits.headersTimeoutMs, (peer, rest) => {
          this.#pending.delete(abandon);
          this.#serve(socket, current(), { peer, rest });
        });
        this.#pending.add(abandon);
        socket.once('close', () => this.#pending.delete(abandon));
        return;
      }
      this.#serve(socket, ctx, null);
    });
  }

  #serve(socket: net.Socket, ctx: ServerContext, proxied: Proxied | null): void {
    const conn = new Connection(socket, ctx, null, proxied);
    this.#connections.add(conn);
    socket.once('close', () => this.#connections.delete(conn));
  }

  /**
   * Listens on the bound handle; never on a port other than `port` (see bindHandle).
   * @throws IsoError `ISO_ERR_API_ADDRESS_IN_USE` (409) or `ISO_ERR_API_BIND_FAILED` (500).
   */
  listen(handle: unknown, port: number): Promise<void> {
    return listenOn(this.#server, handle, port);
  }

  /** Connections open now. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Accepts no new connection and winds the open ones down: idle ones close now, busy ones after their response in progress. */
  windDown(): void {
    this.#server.close();
    for (const abandon of this.#pending) abandon();
    for (const c of this.#connections) c.windDown();
  }

  /** Stops accepting and destroys every open connection; resolves once the server is closed. */
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const abandon of this.#pending) abandon();
      for (const c of this.#connections) c.destroy();
    });
  }
}

/**
 * Listens on the bound handle; never on a port other than `port` (see bindHandle).
 * @throws IsoError `ISO_ERR_API_ADDRESS_IN_USE` (409) or `ISO_ERR_API_BIND_FAILED` (500).
 */
export async function listenOn(server: net.Server, handle: unknown, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(handle as net.ListenOptions, () => {
      server.off('error', reject);
      const addr = server.address();
      if (typeof addr === 'object' && addr !== null && addr.port === port) resolve();
      else server.close(() => reject(Object.assign(new Error('socket is not bound to the requested port'), { code: 'EADDRINUSE' })));
    });
  }).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new IsoError('ISO_ERR_API_ADDRESS_IN_USE', `port ${port} is already in use`);
    throw new IsoError('ISO_ERR_API_BIND_FAILED', `listen failed: ${(err as Error).message}`);
  });
}
