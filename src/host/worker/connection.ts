// One client connection of a tenant server: decodes requests as bytes arrive, runs each through the sandbox in order while its body streams in, writes the responses.

import type { Socket } from 'node:net';
import { ERRORS } from '../../core/errors.js';
import { OUTCOME_ERROR, type Outcome } from '../../core/outcome.js';
import type { Limits } from '../../core/limits.js';
import type { InvokeResult } from '../../sandbox/tenant-sandbox.js';
import type { ResponseStream, ValidResponse } from '../../core/response.js';
import type { Framing } from '../http1/framing.js';
import type { HttpFault, RequestHead } from '../http1/head-parser.js';
import { RequestDecoder } from '../http1/request-decoder.js';
import { serializeError, serializeResponse, serializeStreamHead, type RequestContext, type Serialized } from '../http1/response-writer.js';
import { BodyBuffer } from './body-buffer.js';
import { errorBody } from './error-body.js';
import type { RequestFailure, TailEvent } from './protocol.js';
import type { Proxied } from './proxy-gate.js';
import { buildRequestData } from './request-dict.js';
import { freshRequestId, requestIdOf } from './request-ids.js';
import { RequestTimers } from './request-timers.js';
import type { HostRouter, Refusal, ServerContext, VirtualHost } from './server-context.js';
import { CONTINUE, endAndLinger, writeSerialized } from './socket-output.js';
import { type StreamEnd, writeStream } from './stream-writer.js';

/** One request on the connection: known from its head on, its body streaming in. */
interface Entry {
  readonly head: RequestHead;
  readonly framing: Framing;
  readonly body: BodyBuffer;
  /** Its id, answered in `X-Request-Id` (the client's when sane, see request-ids.ts). */
  readonly requestId: string;
  /** `performance.now()` when the head was in (for the latency histogram). */
  readonly startedAt: number;
  /** Set when its body could not be completed (too large, timed out, malformed): answered instead of the handler. */
  fault: HttpFault | null;
  /** The client ended the connection before the end of this request's body: it is not answered. */
  cutShort: boolean;
  continueSent: boolean;
}

/** How long a connection accepted just before its worker began to drain may take to send its first request, ms. */
const WIND_DOWN_FIRST_REQUEST_MS = 1000;
/** Most characters of a request's path the tenant's log is told. */
const MAX_LOGGED_PATH = 1024;

/** Pause before a policy refusal (503 during a CPU share cool-down) is written, ms. */
const REFUSAL_PAUSE_MS = 200;

/**
 * Serves HTTP/0.9, 1.0 and 1.1 on one socket until either side closes it. A request goes to the
 * handler as soon as its head is in (when no earlier answer is owed); its body streams to the
 * handler's reads, `100 Continue` on the first read that has to wait. Later requests are decoded
 * ahead (up to `maxPipelinedRequests`, then reading stops) and answered strictly in order; what a
 * handler did not read of its body is read and dropped after its response.
 */
export class Connection {
  readonly #socket: Socket;
  /** The server's context; on a shared address, the router's until the first request pins the connection to its server. */
  #ctx: ServerContext;
  /** The server of a shared address this connection serves, from its first request on. */
  #pinned: VirtualHost | null = null;
  readonly #decoder: RequestDecoder;
  readonly #remoteAddress: string | undefined;
  readonly #remotePort: number | undefined;
  /** Requests waiting for their turn (not the one in flight). */
  readonly #queue: Entry[] = [];
  #inFlight: Entry | null = null;
  /** The request whose body is being decoded. */
  #decoding: Entry | null = null;
  #stash: Buffer[] = [];
  #stashBytes = 0;
  /** A refusal not tied to a request whose head was read: answered after everything before it. */
  #fault: { fault: HttpFault; head: RequestHead | null } | null = null;
  #closed = false;
  #peerEnded = false;
  /** {@link windDown} was called: the response in progress is the last. */
  #windingDown = false;
  /** Requests whose head was received on this connection. */
  #requests = 0;
  readonly #timers: RequestTimers;

  /**
   * @param router on a shared address: routes each request by Host (then `ctx` only gives the limits its first head is read under)
   * @param proxied after a PROXY header (proxy-gate.ts): the client it names, and the bytes that followed it
   */
  constructor(socket: Socket, ctx: ServerContext, router: HostRouter | null = null, proxied: Proxied | null = null) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#remoteAddress = proxied === null ? socket.remoteAddress : proxied.peer.address;
    this.#remotePort = proxied === null ? socket.remotePort : proxied.peer.port;
    this.#timers = new RequestTimers(
      () => this.destroy(),
      (code, reason) => {
        // Stop reading; the request this belongs to is answered 408 in its turn.
        this.#socket.pause();
        this.#onFault({ code, reason }, this.#decoding?.head ?? null);
      },
    );
    this.#decoder = new RequestDecoder(ctx.limits, {
      onStart: () => this.#onStart(),
      onHead: (head, framing) => this.#onHead(head, framing),
      onBody: (chunk) => this.#onBody(chunk),
      onRequest: () => this.#onEnd(),
      onFault: (fault, head) => this.#onFault(fault, head),
      ...(router === null ? {} : { onRoute: (head: RequestHead) => this.#route(router, head) }),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    // The server is half-open: a client that shuts down its sending side still gets its answers.
    socket.on('end', () => {
      this.#peerEnded = true;
      if (this.#decoding !== null) {
        this.#decoding.cutShort = true;
        this.#decoding.body.fail(new Error('the client closed the connection before the end of the body'));
      }
      this.#maybeIdle();
    });
    this.#timers.armIdle(ctx.limits.keepAliveTimeoutMs);
    if (proxied !== null && proxied.rest.length > 0) this.#onData(proxied.rest);
  }

  /** Closes the connection at once (server stopping, or the client went away). */
  destroy(): void {
    if (this.#closed && this.#socket.destroyed) return;
    this.#shutDown();
    if (!this.#socket.destroyed) this.#socket.destroy();
  }

  /**
   * Graceful close (the worker is draining): an idle connection closes now; a busy one after the
   * response in progress, sent with `Connection: close`. Requests pipelined behind it are not
   * answered: the client sees the close and may retry them (RFC 9112 §9.3.2).
   */
  windDown(): void {
    if (this.#closed) return;
    this.#windingDown = true;
    if (this.#inFlight !== null || this.#queue.length > 0 || this.#fault !== null || this.#decoder.midRequest) return;
    // Idle after a response: closed now. Just accepted, no request yet: its client is about to send
    // one (closing now would lose it), so it is answered, with `Connection: close`, if it comes soon.
    if (this.#requests > 0 || this.#peerEnded) return this.#closeAfterWrite();
    setTimeout(() => {
      if (this.#requests === 0 && !this.#decoder.midRequest) this.#closeAfterWrite();
    }, WIND_DOWN_FIRST_REQUEST_MS).unref();
  }

  /** Stops everything on this connection: timers, queued requests, the bodies of those still running. */
  #shutDown(): void {
    this.#closed = true;
    this.#timers.clear();
    const gone = new Error('the connection closed');
    for (const e of [this.#inFlight, ...this.#queue]) e?.body.fail(gone);
    this.#stash = [];
    this.#queue.length = 0;
  }

  /**
   * Virtual hosts: the first request's Host (absolute-form authority first) pins the connection to
   * its server, whose limits apply from that head's body on; a later request naming another server
   * is refused with 421 (and the connection closes: the client retries on a new one).
   */
  #route(router: HostRouter, head: RequestHead): HttpFault | null {
    const target = router.route(head.authority ?? hostField(head.fields));
    if (this.#pinned !== null) return target === this.#pinned ? null : PINNED_ELSEWHERE;
    if (target === null) return NO_SUCH_HOST;
    if (!target.pin(this, this.#socket)) return { code: 'ISO_ERR_HTTP_TOO_MANY_CONNECTIONS', reason: 'too many open connections to this server' };
    this.#pinned = target;
    this.#ctx = target.context();
    this.#decoder.useLimits(this.#ctx.limits);
    // The head was read under the address's largest head limits: the server's own apply to it too.
    return headOverLimits(head, this.#decoder.headerBytes, this.#ctx.limits);
  }

  #onStart(): void {
    this.#timers.requestStarted(this.#ctx.limits.headersTimeoutMs, this.#ctx.limits.requestTimeoutMs);
  }

  #onHead(head: RequestHead, framing: Framing): void {
    this.#requests++;
    this.#timers.headReceived();
    const entry: Entry = {
      head,
      framing,
      fault: null,
      cutShort: false,
      continueSent: false,
      requestId: requestIdOf(head.fields),
      startedAt: performance.now(),
      body: new BodyBuffer(
        () => this.#sendContinue(entry),
        () => this.#flow(),
        this.#bodyWindow(),
      ),
    };
    this.#decoding = entry;
    this.#queue.push(entry);
    if (this.#inFlight === null) this.#next();
  }

  /** RFC 9110 §10.1.1: the 100 is sent when the handler first waits for the body (by then every earlier answer is written). */
  #sendContinue(entry: Entry): void {
    if (!entry.framing.expectContinue || entry.continueSent || this.#closed || entry !== this.#inFlight) return;
    entry.continueSent = true;
    this.#socket.write(CONTINUE);
  }

  #onBody(chunk: Buffer): void {
    const entry = this.#decoding;
    if (entry === null) return;
    entry.body.push(chunk);
    if (entry.body.full) this.#socket.pause();
  }

  #onEnd(): boolean {
    this.#timers.requestReceived();
    this.#decoding?.body.end();
    this.#decoding = null;
    return this.#queue.length < this.#ctx.limits.maxPipelinedRequests;
  }

  #onFault(fault: HttpFault, head: RequestHead | null): void {
    if (this.#closed) return;
    this.#timers.clear();
    const entry = this.#decoding;
    this.#decoding = null;
    if (entry !== null && !entry.body.ended) {
      // The request's head was fine but its body is not: it is answered with the fault, in its turn.
      entry.fault = fault;
      entry.body.fail(new Error(`request body refused: ${fault.reason}`));
    } else if (this.#fault === null) {
      this.#fault = { fault, head };
    }
    if (this.#inFlight === null) this.#next();
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

  /** Reads on when nothing holds it back: no stash, a queue with room, no full body buffer. */
  #flow(): void {
    if (this.#closed || this.#fault !== null) return;
    if (this.#stashBytes > 0 || this.#queue.length >= this.#ctx.limits.maxPipelinedRequests) return;
    if (this.#decoding?.body.full === true) return;
    this.#socket.resume();
  }

  /** Answers the next thing owed, in order: a queued request (or its fault), else a connection fault. */
  #next(): void {
    if (this.#closed) return;
    const entry = this.#queue.shift();
    if (entry !== undefined) {
      if (entry.cutShort) return this.destroy();
      if (entry.fault !== null) return this.#refuse(entry.fault, entry.head, entry.requestId);
      const refusal = this.#ctx.refuse?.() ?? null;
      if (refusal !== null) return this.#refuseLater(refusal, entry);
      this.#inFlight = entry;
      // The body's first bodyWindowBytes arrive before the handler starts (not with Expect: 100-continue,
      // whose client waits to be asked): a slow upload holds no isolate, and its time is the connection's.
      const window = this.#bodyWindow();
      if (window > 0 && !entry.body.ended && !entry.framing.expectContinue) {
        entry.body.whenFilled(window, () => this.#dispatch(entry));
        this.#flow();
        return;
      }
      return this.#dispatch(entry);
    }
    if (this.#fault !== null) this.#refuse(this.#fault.fault, this.#fault.head);
  }

  /** The server's `bodyWindowBytes`, at most its `maxBodyBytes`. */
  #bodyWindow(): number {
    return Math.min(this.#ctx.limits.bodyWindowBytes, this.#ctx.limits.maxBodyBytes);
  }

  /** Runs the in-flight request's handler (its body window filled, or the body ended or failed: then it is answered with the fault). */
  #dispatch(entry: Entry): void {
    if (this.#closed) return;
    if (entry.cutShort) {
      this.#inFlight = null;
      return this.destroy();
    }
    if (entry.fault !== null) {
      this.#inFlight = null;
      return this.#refuse(entry.fault, entry.head, entry.requestId);
    }
    const data = buildRequestData(entry.head, this.#ctx.httpdid, this.#remoteAddress, this.#remotePort);
    void this.#ctx.invoke(JSON.stringify(data), entry.body, entry.requestId).then((result) => this.#respond(entry, result));
    this.#flow();
  }

  /**
   * A refusal from the server's policy (its CPU share cool-down), answered after a short pause so
   * that a client retrying at once does not make a busy loop of it; the connection then closes.
   */
  #refuseLater(refusal: Refusal, entry: Entry): void {
    const out = serializeError(refusal.code, refusal.reason, entry.head, { 'Retry-After': String(refusal.retryAfterS), 'X-Request-Id': entry.requestId });
    this.#shutDown();
    setTimeout(() => {
      if (this.#socket.destroyed) return;
      this.#write(out);
      this.#closeAfterWrite();
    }, REFUSAL_PAUSE_MS).unref();
  }

  /** @param requestId the id of the request refused, when it was given one already */
  #refuse(fault: HttpFault, head: RequestHead | null, requestId?: string): void {
    const id = requestId ?? (head === null ? freshRequestId() : requestIdOf(head.fields));
    this.#write(serializeError(fault.code, fault.reason, head === null ? null : { version: head.version, method: head.method }, { 'X-Request-Id': id }));
    this.#closeAfterWrite();
  }

  #respond(entry: Entry, result: InvokeResult): void {
    this.#inFlight = null;
    if (this.#closed) return;
    if (entry.cutShort) return this.destroy();
    // A body that failed under the handler is answered with its fault, whatever the handler returned.
    if (entry.fault !== null) return this.#refuse(entry.fault, entry.head, entry.requestId);
    // RFC 9110 §10.1.1: a client told to wait for 100 may never send the body; do not wait for it.
    const unsentBody = entry.framing.expectContinue && !entry.continueSent && !entry.body.ended;
    const { requestId } = entry;
    const req: RequestContext = { version: entry.head.version, method: entry.head.method, keepAlive: entry.framing.keepAlive && !unsentBody && !this.#windingDown, requestId };
    if (result.outcome === 'ok' && result.response.stream !== undefined) return this.#respondStreamed(entry, result.response, result.response.stream, req);
    if (result.outcome === 'ok') {
      const out = serializeResponse(result.response, req);
      this.#write(out);
      this.#ctx.report('ok', entry.startedAt, null);
      if (this.#ctx.tailed()) this.#ctx.tail(tailEvent(entry, result.response.statuscode, 'ok', out));
      return this.#after(entry, out);
    }
    const code = OUTCOME_ERROR[result.outcome];
    const out = serializeError(code, errorBody(result.outcome, result.detail, requestId, this.#ctx.exposeErrors()), req, { 'X-Request-Id': requestId });
    this.#write(out);
    const failed = failure(entry, ERRORS[code].status, result);
    this.#ctx.report(result.outcome, entry.startedAt, failed);
    if (this.#ctx.tailed()) this.#ctx.tail(tailEvent(entry, failed.status, result.outcome, out, failed));
    this.#after(entry, out);
  }

  /**
   * A streamed response: its head now, then its body as the handler's iterator yields it (the
   * request stays in flight meanwhile, so pipelined requests wait their turn). A body cut off
   * after the head (the handler failed, responseTimeoutMs) closes the connection without the last
   * chunk, and is logged with its cause.
   */
  #respondStreamed(entry: Entry, res: ValidResponse, stream: ResponseStream, req: RequestContext): void {
    const head = serializeStreamHead(res, req);
    this.#write(head);
    this.#inFlight = entry;
    void writeStream(this.#socket, stream, head.framing, this.#ctx.limits.responseTimeoutMs).then((end) => this.#streamEnded(entry, res, head, end));
  }

  #streamEnded(entry: Entry, res: ValidResponse, head: Serialized, end: StreamEnd): void {
    this.#inFlight = null;
    let headBytes = 0;
    for (const c of head.chunks) headBytes += c.byteLength;
    if (end.outcome === 'ok') {
      this.#ctx.report('ok', entry.startedAt, null);
      if (this.#ctx.tailed()) this.#ctx.tail({ ...tailEvent(entry, res.statuscode, 'ok', head), bytesOut: headBytes + end.bytes });
      if (!end.complete) return this.destroy();
      return this.#after(entry, head);
    }
    const failed = failure(entry, res.statuscode, { detail: `streamed response cut off after ${end.bytes} body bytes: ${end.detail}`, ...(end.stack === undefined ? {} : { stack: end.stack }) });
    this.#ctx.report(end.outcome, entry.startedAt, failed);
    if (this.#ctx.tailed()) this.#ctx.tail({ ...tailEvent(entry, res.statuscode, end.outcome, head, failed), bytesOut: headBytes + end.bytes });
    // No last chunk: the client sees the body truncated.
    this.#closeAfterWrite();
  }

  /** After a response was written: close, or drain the rest of its body and go on with the next request. */
  #after(entry: Entry, out: Serialized): void {
    if (out.close) return this.#closeAfterWrite();
    // What the handler did not read is drained (read and dropped) as it arrives.
    entry.body.discardRest();
    // Respect back-pressure: go on only once a slow reader has taken this response.
    if (this.#socket.writableNeedDrain) this.#socket.once('drain', () => this.#proceed());
    else this.#proceed();
  }

  #proceed(): void {
    if (this.#closed) return;
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
    if (this.#closed || this.#inFlight !== null) return;
    if (this.#queue.length > 0 || this.#fault !== null) return this.#next();
    this.#flow();
    this.#maybeIdle();
  }

  /** Nothing owed and nothing half-received: wait for the next request, or close if the client is done. */
  #maybeIdle(): void {
    if (this.#closed || this.#inFlight !== null || this.#queue.length > 0 || this.#fault !== null || this.#stashBytes > 0) return;
    if (this.#peerEnded) {
      // A request cut short by the client's end is not answered.
      if (this.#decoder.midRequest) this.destroy();
      else this.#closeAfterWrite();
      return;
    }
    if (this.#windingDown && !this.#decoder.midRequest) return this.#closeAfterWrite();
    if (!this.#decoder.midRequest) this.#timers.armIdle(this.#ctx.limits.keepAliveTimeoutMs);
  }

  #write(out: Serialized): void {
    writeSerialized(this.#socket, out);
  }

  #closeAfterWrite(): void {
    this.#shutDown();
    endAndLinger(this.#socket);
  }
}

/** 421 for a Host no server of the shared address claims. */
const NO_SUCH_HOST: HttpFault = { code: 'ISO_ERR_HTTP_MISDIRECTED_REQUEST', reason: 'no server at this address answers for this Host' };
/** 421 for a request naming another server than the one its connection serves. */
const PINNED_ELSEWHERE: HttpFault = { code: 'ISO_ERR_HTTP_MISDIRECTED_REQUEST', reason: 'this connection serves another Host; send this request on a new connection' };

/** A head read under larger limits, judged by `limits` as the parser would have: 414 or 431, or null within them. */
function headOverLimits(head: RequestHead, headerBytes: number, limits: Limits): HttpFault | null {
  // The strict parser takes single spaces: METHOD SP target [SP HTTP/x.y].
  const lineBytes = head.method.length + 1 + head.target.length + (head.version === '0.9' ? 0 : 9);
  if (lineBytes > limits.maxRequestLineBytes) return { code: 'ISO_ERR_HTTP_URI_TOO_LONG', reason: 'request target too long' };
  if (head.fields.length > limits.maxHeaderFields) return { code: 'ISO_ERR_HTTP_HEADERS_TOO_LARGE', reason: 'too many header fields' };
  if (headerBytes > limits.maxHeaderBytes) return { code: 'ISO_ERR_HTTP_HEADERS_TOO_LARGE', reason: 'header section too large' };
  return null;
}

/** The value of the Host field, or null (HTTP/1.0 and 0.9 may send none; more than one was refused already). */
function hostField(fields: ReadonlyArray<readonly [string, string]>): string | null {
  for (const [name, value] of fields) if (name.length === 4 && name.toLowerCase() === 'host') return value;
  return null;
}

/** The request-target's path without the query, at most MAX_LOGGED_PATH characters (for the tenant's log and tail). */
function loggedPath(target: string): string {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  return path.length > MAX_LOGGED_PATH ? path.slice(0, MAX_LOGGED_PATH) : path;
}

/** What the tenant's log is told of a request answered with an error `status`. */
function failure(entry: Entry, status: number, result: { readonly detail: string; readonly stack?: string }): RequestFailure {
  const f = { requestId: entry.requestId, method: entry.head.method, path: loggedPath(entry.head.target), status, detail: result.detail };
  return result.stack === undefined ? f : { ...f, stack: result.stack };
}

/** The tail's event of a request whose response `out` was just written. */
function tailEvent(entry: Entry, status: number, outcome: Outcome, out: Serialized, failed?: RequestFailure): TailEvent {
  let bytesOut = 0;
  for (const c of out.chunks) bytesOut += c.byteLength;
  const e: TailEvent = {
    time: Date.now(),
    requestId: entry.requestId,
    method: entry.head.method,
    path: loggedPath(entry.head.target),
    status,
    outcome,
    durationMs: Math.round((performance.now() - entry.startedAt) * 100) / 100,
    bytesIn: entry.body.received,
    bytesOut,
  };
  if (failed === undefined) return e;
  return failed.stack === undefined ? { ...e, detail: failed.detail } : { ...e, detail: failed.detail, stack: failed.stack };
}
