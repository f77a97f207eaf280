// One client connection of a tenant server: decodes requests as bytes arrive, runs them through the sandbox in order, writes the responses.

import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors.js';
import type { Limits } from '../limits.js';
import { OUTCOME_ERROR, type Outcome } from '../outcome.js';
import type { InvokeResult } from '../sandbox/tenant-sandbox.js';
import type { Framing } from './framing.js';
import type { HttpFault, RequestHead } from './head-parser.js';
import { RequestDecoder, type DecodedRequest } from './request-decoder.js';
import { buildRequestData } from './request-dict.js';
import { serializeError, serializeResponse, type RequestContext, type Serialized } from './response-writer.js';

/** What a connection needs from the server it belongs to. */
export interface ServerContext {
  readonly httpdid: number;
  readonly limits: Limits;
  /** Runs the handler; never rejects. */
  invoke(requestJson: string, body: Uint8Array): Promise<InvokeResult>;
  /** Called once per request that reached the handler, with how it ended. */
  report(outcome: Outcome, detail: string | null): void;
}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
/** How long a closing connection may keep sending before it is destroyed, ms. */
const LINGER_MS = 2000;

/**
 * Serves HTTP/0.9, 1.0 and 1.1 on one socket until either side closes it. Requests are decoded
 * ahead of the one being answered (up to `maxPipelinedRequests`, then reading stops) and
 * answered strictly in order; a fault is answered after the requests before it.
 */
export class Connection {
  readonly #socket: Socket;
  readonly #ctx: ServerContext;
  readonly #decoder: RequestDecoder;
  readonly #remoteAddress: string | undefined;
  readonly #remotePort: number | undefined;
  readonly #queue: DecodedRequest[] = [];
  #stash: Buffer[] = [];
  #stashBytes = 0;
  #inFlight = false;
  #fault: { fault: HttpFault; head: RequestHead | null } | null = null;
  #continuePending = false;
  #closed = false;
  #peerEnded = false;
  #headersTimer: NodeJS.Timeout | null = null;
  #requestTimer: NodeJS.Timeout | null = null;
  #idleTimer: NodeJS.Timeout | null = null;

  constructor(socket: Socket, ctx: ServerContext) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#remoteAddress = socket.remoteAddress;
    this.#remotePort = socket.remotePort;
    this.#decoder = new RequestDecoder(ctx.limits, {
      onStart: () => this.#onStart(),
      onHead: (head, framing) => this.#onHead(head, framing),
      onRequest: (req) => this.#onRequest(req),
      onFault: (fault, head) => this.#onFault(fault, head),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    // The server is half-open: a client that shuts down its sending side still gets its answers.
    socket.on('end', () => {
      this.#peerEnded = true;
      this.#maybeIdle();
    });
    this.#armIdle();
  }

  /** Closes the connection at once (server stopping, or the client went away). */
  destroy(): void {
    this.#closed = true;
    this.#clearTimers();
    this.#stash = [];
    this.#queue.length = 0;
    if (!this.#socket.destroyed) this.#socket.destroy();
  }

  #clearTimers(): void {
    for (const t of [this.#headersTimer, this.#requestTimer, this.#idleTimer]) if (t !== null) clearTimeout(t);
    this.#headersTimer = this.#requestTimer = this.#idleTimer = null;
  }

  #armIdle(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.destroy(), this.#ctx.limits.keepAliveTimeoutMs);
  }

  #timeout(code: ErrorCode, reason: string): NodeJS.Timeout {
    return setTimeout(() => {
      // Stop reading and answer 408 in turn, after the requests already received.
      this.#socket.pause();
      this.#onFault({ code, reason }, null);
    }, code === 'ISO_ERR_HTTP_HEADERS_TIMEOUT' ? this.#ctx.limits.headersTimeoutMs : this.#ctx.limits.requestTimeoutMs);
  }

  #onStart(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    this.#headersTimer = this.#timeout('ISO_ERR_HTTP_HEADERS_TIMEOUT', 'request headers not received in time');
    this.#requestTimer = this.#timeout('ISO_ERR_HTTP_REQUEST_TIMEOUT', 'request not received in time');
  }

  #onHead(_head: RequestHead, framing: Framing): void {
    if (this.#headersTimer !== null) clearTimeout(this.#headersTimer);
    this.#headersTimer = null;
    if (framing.expectContinue && (framing.chunked || framing.contentLength > 0)) {
      // The 100 goes out in turn: right now only if no earlier response is still owed.
      if (!this.#inFlight && this.#queue.length === 0) this.#socket.write(CONTINUE);
      else this.#continuePending = true;
    }
  }

  #onRequest(req: DecodedRequest): boolean {
    if (this.#requestTimer !== null) clearTimeout(this.#requestTimer);
    this.#requestTimer = null;
    this.#continuePending = false;
    this.#queue.push(req);
    if (!this.#inFlight) this.#next();
    return this.#queue.length < this.#ctx.limits.maxPipelinedRequests;
  }

  #onFault(fault: HttpFault, head: RequestHead | null): void {
    if (this.#fault !== null || this.#closed) return;
    this.#clearTimers();
    this.#fault = { fault, head };
    if (!this.#inFlight) this.#next();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed || this.#fault !== null) return;
    if (this.#stashBytes > 0 || this.#queue.length >= this.#ctx.limits.maxPipelinedRequests) {
      this.#stash.push(chunk);
      this.#stashBytes += chunk.length;
      this.#socket.pause();
      return;
    }
    const rest = this.#decoder.push(chunk);
    if (rest.length > 0) {
      this.#stash.push(rest);
      this.#stashBytes += rest.length;
      this.#socket.pause();
    }
  }

  /** Answers the next thing owed, in order: a queued request, else a fault. Then reads on. */
  #next(): void {
    if (this.#closed) return;
    const req = this.#queue.shift();
    if (req !== undefined) {
      this.#inFlight = true;
      const { head, framing, body } = req;
      const data = buildRequestData(head, this.#ctx.httpdid, this.#remoteAddress, this.#remotePort);
      const ctx: RequestContext = { version: head.version, method: head.method, keepAlive: framing.keepAlive };
      void this.#ctx.invoke(JSON.stringify(data), body).then((result) => this.#respond(ctx, result));
      return;
    }
    if (this.#fault !== null) {
      const { fault, head } = this.#fault;
      this.#write(serializeError(fault.code, fault.reason, head === null ? null : { version: head.version, method: head.method }));
      this.#closeAfterWrite();
    }
  }

  #respond(req: RequestContext, result: InvokeResult): void {
    this.#inFlight = false;
    if (this.#closed) return;
    let out: Serialized;
    if (result.outcome === 'ok') {
      this.#ctx.report('ok', null);
      out = serializeResponse(result.response, req);
    } else {
      this.#ctx.report(result.outcome, result.detail);
      out = serializeError(OUTCOME_ERROR[result.outcome], result.detail, req);
    }
    this.#write(out);
    if (out.close) return this.#closeAfterWrite();
    if (this.#continuePending && this.#queue.length === 0) {
      this.#continuePending = false;
      this.#socket.write(CONTINUE);
    }
    // Respect back-pressure: go on only once a slow reader has taken this response.
    if (this.#socket.writableNeedDrain) this.#socket.once('drain', () => this.#proceed());
    else this.#proceed();
  }

  #proceed(): void {
    if (this.#closed) return;
    if (this.#queue.length > 0 || this.#fault !== null) return this.#next();
    // Decode what was held back while the queue was full.
    while (this.#stash.length > 0 && this.#queue.length < this.#ctx.limits.maxPipelinedRequests && this.#fault === null && !this.#decoder.finished) {
      const chunk = this.#stash.shift() as Buffer;
      this.#stashBytes -= chunk.length;
      const rest = this.#decoder.push(chunk);
      if (rest.length > 0) {
        this.#stash.unshift(rest);
        this.#stashBytes += rest.length;
      }
    }
    if (this.#closed || this.#inFlight) return;
    if (this.#queue.length > 0 || this.#fault !== null) return this.#next();
    if (this.#stashBytes === 0) this.#socket.resume();
    this.#maybeIdle();
  }

  /** Nothing owed and nothing half-received: wait for the next request, or close if the client is done. */
  #maybeIdle(): void {
    if (this.#closed || this.#inFlight || this.#queue.length > 0 || this.#fault !== null || this.#stashBytes > 0) return;
    if (this.#peerEnded) {
      // A request cut short by the client's end is not answered.
      if (this.#decoder.midRequest) this.destroy();
      else this.#closeAfterWrite();
      return;
    }
    if (!this.#decoder.midRequest) this.#armIdle();
  }

  #write(out: Serialized): void {
    if (out.chunks.length === 1) {
      this.#socket.write(out.chunks[0] as Uint8Array);
      return;
    }
    this.#socket.cork();
    for (const c of out.chunks) this.#socket.write(c);
    this.#socket.uncork();
  }

  #closeAfterWrite(): void {
    this.#closed = true;
    this.#clearTimers();
    this.#stash = [];
    this.#queue.length = 0;
    this.#socket.end();
    // Keep reading (and discarding) briefly so the client sees the response rather than a reset.
    this.#socket.resume();
    setTimeout(() => this.#socket.destroy(), LINGER_MS).unref();
  }
}
