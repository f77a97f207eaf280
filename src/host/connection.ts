// One client connection of a tenant server: parses requests as bytes arrive, runs each through the sandbox in order, writes the responses.

import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors.js';
import type { Limits } from '../limits.js';
import { OUTCOME_ERROR, type Outcome } from '../outcome.js';
import type { InvokeResult } from '../sandbox/tenant-sandbox.js';
import { analyzeFraming, isFault, type Framing } from './framing.js';
import { HeadParser, type HttpFault, type RequestHead } from './head-parser.js';
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
const EMPTY = new Uint8Array(0);
/** Bytes read ahead while a request is being handled before the socket is paused. */
const READ_AHEAD_BYTES = 64 * 1024;
/** How long a closing connection may keep sending before it is destroyed, ms. */
const LINGER_MS = 2000;

type State = 'head' | 'body' | 'busy' | 'closed';

/** Serves HTTP/1.0 and 1.1 on one socket until either side closes it. */
export class Connection {
  readonly #socket: Socket;
  readonly #ctx: ServerContext;
  readonly #parser: HeadParser;
  readonly #remoteAddress: string | undefined;
  readonly #remotePort: number | undefined;
  #state: State = 'head';
  #backlog: Buffer[] = [];
  #backlogBytes = 0;
  #head: RequestHead | null = null;
  #framing: Framing | null = null;
  #body: Uint8Array = EMPTY;
  #bodyFilled = 0;
  #timer: NodeJS.Timeout | null = null;
  #peerEnded = false;

  constructor(socket: Socket, ctx: ServerContext) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#parser = new HeadParser(ctx.limits);
    this.#remoteAddress = socket.remoteAddress;
    this.#remotePort = socket.remotePort;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => this.#destroy());
    socket.on('close', () => this.#destroy());
    // The server is half-open: a client that shuts down its sending side after a request still gets the answer.
    socket.on('end', () => {
      this.#peerEnded = true;
      if (this.#state === 'head' || this.#state === 'body') this.#endOfInput();
    });
    this.#arm(ctx.limits.keepAliveTimeoutMs, null);
  }

  /** Closes the connection at once (server stopping). */
  destroy(): void {
    this.#destroy();
  }

  #arm(ms: number, onExpiry: ErrorCode | null): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (onExpiry === null) this.#destroy();
      else this.#fail({ code: onExpiry, reason: 'request headers not received in time' }, null);
    }, ms);
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #onData(chunk: Buffer): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'busy') {
      this.#backlog.push(chunk);
      this.#backlogBytes += chunk.length;
      if (this.#backlogBytes > READ_AHEAD_BYTES) this.#socket.pause();
      return;
    }
    this.#feed(chunk);
  }

  #feed(input: Buffer): void {
    let chunk = input;
    while (chunk.length > 0) {
      if (this.#state === 'head') {
        const wasStarted = this.#parser.started;
        const r = this.#parser.push(chunk);
        if (r.kind === 'more') {
          if (!wasStarted && this.#parser.started) this.#arm(this.#ctx.limits.headersTimeoutMs, 'ISO_ERR_HTTP_HEADERS_TIMEOUT');
          return;
        }
        this.#disarm();
        if (r.kind === 'fault') return this.#fail(r.fault, null);
        if (!this.#begin(r.head)) return;
        chunk = r.rest;
      } else if (this.#state === 'body') {
        const n = Math.min(chunk.length, this.#body.length - this.#bodyFilled);
        this.#body.set(chunk.subarray(0, n), this.#bodyFilled);
        this.#bodyFilled += n;
        chunk = chunk.subarray(n);
      } else {
        // busy or closed: keep what is left for after the response
        if (this.#state === 'busy' && chunk.length > 0) {
          this.#backlog.unshift(chunk);
          this.#backlogBytes += chunk.length;
        }
        return;
      }
      if (this.#state === 'body' && this.#bodyFilled === this.#body.length) this.#dispatch();
    }
    if (this.#state === 'body' && this.#bodyFilled === this.#body.length) this.#dispatch();
  }

  /** Checks framing and limits for a new head; returns false if the request was refused. */
  #begin(head: RequestHead): boolean {
    const framing = analyzeFraming(head);
    const ctx = { version: head.version, method: head.method };
    if (isFault(framing)) {
      this.#fail(framing, ctx);
      return false;
    }
    if (framing.contentLength > this.#ctx.limits.maxBodyBytes) {
      this.#fail({ code: 'ISO_ERR_HTTP_BODY_TOO_LARGE', reason: `request body larger than ${this.#ctx.limits.maxBodyBytes} bytes` }, ctx);
      return false;
    }
    this.#head = head;
    this.#framing = framing;
    // A fresh, exactly-sized buffer: what crosses into the isolate must not share memory with anything else.
    this.#body = framing.contentLength === 0 ? EMPTY : new Uint8Array(framing.contentLength);
    this.#bodyFilled = 0;
    this.#state = 'body';
    if (framing.expectContinue && framing.contentLength > 0) this.#socket.write(CONTINUE);
    return true;
  }

  #dispatch(): void {
    const head = this.#head;
    const framing = this.#framing;
    if (head === null || framing === null) return;
    this.#state = 'busy';
    const data = buildRequestData(head, this.#ctx.httpdid, this.#remoteAddress, this.#remotePort);
    const body = this.#body;
    this.#body = EMPTY;
    const req: RequestContext = { version: head.version, method: head.method, keepAlive: framing.keepAlive };
    void this.#ctx.invoke(JSON.stringify(data), body).then((result) => this.#respond(req, result));
  }

  #respond(req: RequestContext, result: InvokeResult): void {
    if (this.#state === 'closed') return;
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
    this.#state = 'head';
    this.#head = null;
    this.#framing = null;
    this.#parser.reset();
    this.#arm(this.#ctx.limits.keepAliveTimeoutMs, null);
    const continueReading = (): void => {
      if (this.#state !== 'head') return;
      const pending = this.#backlog;
      this.#backlog = [];
      this.#backlogBytes = 0;
      for (const chunk of pending) {
        if (this.#reading()) this.#feed(chunk);
        else {
          this.#backlog.push(chunk);
          this.#backlogBytes += chunk.length;
        }
      }
      if (this.#peerEnded && this.#reading()) this.#endOfInput();
      else if ((this.#state as State) !== 'closed' && this.#backlogBytes <= READ_AHEAD_BYTES) this.#socket.resume();
    };
    // Respect back-pressure: read the next request only once a slow reader has taken this response.
    if (this.#socket.writableNeedDrain) this.#socket.once('drain', continueReading);
    else continueReading();
  }

  /** Whether input is being parsed (not waiting for a response, not closed). */
  #reading(): boolean {
    return this.#state === 'head' || this.#state === 'body';
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

  /** Answers a refused request with a server error and closes. */
  #fail(fault: HttpFault, req: Pick<RequestContext, 'version' | 'method'> | null): void {
    if (this.#state === 'closed') return;
    this.#write(serializeError(fault.code, fault.reason, req));
    this.#closeAfterWrite();
  }

  /** The client sent its last byte: close, cleanly if no request was cut short. */
  #endOfInput(): void {
    if (this.#state === 'head' && !this.#parser.started) this.#closeAfterWrite();
    else this.#destroy();
  }

  #closeAfterWrite(): void {
    this.#state = 'closed';
    this.#disarm();
    this.#backlog = [];
    this.#socket.end();
    // Keep reading (and discarding) briefly so the client sees the response rather than a reset.
    this.#socket.resume();
    setTimeout(() => this.#socket.destroy(), LINGER_MS).unref();
  }

  #destroy(): void {
    this.#state = 'closed';
    this.#disarm();
    this.#backlog = [];
    if (!this.#socket.destroyed) this.#socket.destroy();
  }
}
