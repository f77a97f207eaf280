// What a client connection needs from the server (and the version of it) it was accepted under.

import type { Socket } from 'node:net';
import type { ErrorCode } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';
import type { Outcome } from '../../core/outcome.js';
import type { BodySource } from '../../sandbox/body-source.js';
import type { InvokeResult } from '../../sandbox/tenant-sandbox.js';
import type { RequestFailure, TailEvent } from './protocol.js';

/** A policy's decision to turn a request away before it enters the sandbox: the connection answers it with `code` and `Retry-After`, then closes. */
export interface Refusal {
  readonly code: ErrorCode;
  /** The text of the answer. */
  readonly reason: string;
  /** When the client may try again, whole seconds (at least 1). */
  readonly retryAfterS: number;
}

/** What a connection needs from the server it belongs to. */
export interface ServerContext {
  readonly httpdid: number;
  /** The limits of the version the connection was accepted under (its connection limits). */
  readonly limits: Limits;
  /** Runs the handler, its body pulled from `body`; never rejects. @param requestId the id the client is answered with (its console lines carry it) */
  invoke(requestJson: string, body: BodySource, requestId: string): Promise<InvokeResult>;
  /**
   * Called once per request that reached the handler, with how it ended, once its response is
   * written; `startedAt` is `performance.now()` when its head was in; `failure` what the tenant's
   * log is told (null for `ok`).
   */
  report(outcome: Outcome, startedAt: number, failure: RequestFailure | null): void;
  /** Whether someone tails the server now: then each request that reached the handler is also given to {@link tail}. */
  tailed(): boolean;
  /** One request of a tailed server, once its response is written. */
  tail(event: TailEvent): void;
  /** Whether error bodies carry the handler's detail: the `exposeErrors` of the server's version serving now. */
  exposeErrors(): boolean;
  /** Before a request enters the sandbox: `null` to run it, or a refusal instead (CPU share cool-down, src/host/worker/cpu-share.ts). */
  refuse?(): Refusal | null;
}

/** What a server of a shared address keeps of a connection pinned to it: winding it down, closing it. */
export interface PinnedConnection {
  windDown(): void;
  destroy(): void;
}

/** One server of a shared address as a connection routed to it by Host sees it (virtual hosts). */
export interface VirtualHost {
  readonly httpdid: number;
  /** The context of the server's version serving now. */
  context(): ServerContext;
  /** Pins a connection (its socket counted in the server's bytes from now on); false if the server is at its `maxConnections` (the request gets 503). */
  pin(conn: PinnedConnection, socket: Socket): boolean;
}

/** How the connections of a shared address find their server. */
export interface HostRouter {
  /** The limits a connection is read under until its first request is routed: each head limit and timeout the largest of the address's servers'. */
  readonly limits: Limits;
  /** The server for a request whose authority (absolute-form target's, else the Host field) is `authority`, or null (421). */
  route(authority: string | null): VirtualHost | null;
}
