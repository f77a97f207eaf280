// The HTTP/1.x request decoder: bytes in any split → requests (head, framing, body bytes as they arrive), or the fault that ends the connection.

import { resolveLimits, type Limits } from '../../core/limits.js';
import { CHUNKED_FAULT, CHUNKED_MORE, type ChunkSink, ChunkedDecoder } from './chunked-decoder.js';
import { FramingCheck, isFault, type Framing } from './framing.js';
import { HEAD_FAULT, HEAD_MORE, HeadParser, type HttpFault, type RequestHead } from './head-parser.js';

/** A complete request: its head and framing (its body went to {@link DecoderSink.onBody}). */
export interface DecodedRequest {
  readonly head: RequestHead;
  readonly framing: Framing;
}

/** Where the decoder reports what it found. */
export interface DecoderSink {
  /** The first byte of a new request arrived (start the headers and request timers). */
  onStart(): void;
  /** The head was accepted (stop the headers timer). `expectContinue` heads want a 100 before their body. */
  onHead(head: RequestHead, framing: Framing): void;
  /** Body bytes of the current request as they arrive: views of the input (copy to keep beyond the call). */
  onBody(chunk: Buffer): void;
  /** A request is complete. Return false to stop decoding: `push` then returns the unread bytes. */
  onRequest(req: DecodedRequest): boolean;
  /** The input is refused; nothing more will be decoded. `head` is the request it belongs to, if its head was read. */
  onFault(fault: HttpFault, head: RequestHead | null): void;
  /**
   * A head was read and its framing judged, before its body size is checked: a connection of a
   * shared address routes it to its server by Host here (and may call {@link RequestDecoder.useLimits}).
   * Return a fault to refuse it (421), or null.
   */
  onRoute?(head: RequestHead): HttpFault | null;
}

const EMPTY_BUF = Buffer.alloc(0);
const UNKNOWN: HttpFault = { code: 'ISO_ERR_HTTP_BAD_REQUEST', reason: 'invalid request' };

/**
 * The current body: its bytes handed to the sink as they arrive, and counted. Nothing is kept.
 * (A class rather than closures per decoder, so optimized callers share its methods.)
 */
class BodyStream implements ChunkSink {
  readonly #sink: DecoderSink;
  #received = 0;

  constructor(sink: DecoderSink) {
    this.#sink = sink;
  }

  /** Bytes received so far. */
  get received(): number {
    return this.#received;
  }

  /** Chunk data at `buf[from, to)`. */
  data(buf: Buffer, from: number, to: number): void {
    this.#received += to - from;
    this.#sink.onBody(buf.subarray(from, to));
  }

  /** A view of Content-Length body bytes. */
  view(part: Buffer): void {
    this.#received += part.length;
    this.#sink.onBody(part);
  }

  /** The next body starts. */
  clear(): void {
    this.#received = 0;
  }
}

/**
 * Decodes a stream of requests. Memory is bounded by the limits: a head by the line and header
 * limits; a body is never held: its bytes go to the sink as they arrive, at most `maxBodyBytes`
 * of them (checked from Content-Length before any body byte, and while chunks arrive).
 * After an HTTP/0.9 request or a fault, nothing more is decoded.
 */
export class RequestDecoder {
  #limits: Limits;
  readonly #sink: DecoderSink;
  readonly #head: HeadParser;
  readonly #framingCheck = new FramingCheck();
  #state: 'head' | 'length' | 'chunked' | 'done' = 'head';
  #current: RequestHead | null = null;
  #framing: Framing | null = null;
  readonly #body: BodyStream;
  readonly #chunked: ChunkedDecoder;

  constructor(limits: Limits, sink: DecoderSink) {
    this.#limits = limits;
    this.#sink = sink;
    this.#body = new BodyStream(sink);
    this.#head = new HeadParser(limits, this.#framingCheck);
    this.#chunked = new ChunkedDecoder(limits, this.#body);
  }

  /** Decodes from the current request on under `limits` (a connection of a shared address, once routed to its server). */
  useLimits(limits: Limits): void {
    this.#limits = limits;
    this.#head.useLimits(limits);
    this.#chunked.useLimits(limits);
  }

  /** The header section's bytes of the head just read (valid from its {@link DecoderSink.onRoute} until its body starts), as `maxHeaderBytes` counts them. */
  get headerBytes(): number {
    return this.#head.headerBytes;
  }

  /** Whether any byte of an unfinished request has been received. */
  get midRequest(): boolean {
    return this.#state === 'length' || this.#state === 'chunked' || (this.#state === 'head' && this.#head.started);
  }

  /** Whether the decoder has stopped for good (fault or HTTP/0.9). */
  get finished(): boolean {
    return this.#state === 'done';
  }

  /** Feeds bytes. Returns the bytes not yet decoded when the sink asked to stop (else an empty buffer). */
  push(input: Buffer): Buffer {
    const rest = this.#push(input);
    this.#head.release();
    return rest;
  }

  #push(input: Buffer): Buffer {
    const n = input.length;
    let at = 0;
    while (at < n && this.#state !== 'done') {
      if (this.#state === 'head') {
        const wasStarted = this.#head.started;
        const r = this.#head.feed(input, at);
        if (!wasStarted && this.#head.started) this.#sink.onStart();
        if (r === HEAD_MORE) return EMPTY_BUF;
        const head = this.#head.head;
        if (r === HEAD_FAULT || head === null) return this.#fail(this.#head.fault ?? UNKNOWN, null);
        at = r;
        const framing = this.#framingCheck.judge(head);
        if (isFault(framing)) return this.#fail(framing, head);
        const misrouted = this.#sink.onRoute?.(head) ?? null;
        if (misrouted !== null) return this.#fail(misrouted, head);
        if (framing.chunked === false && framing.contentLength > this.#limits.maxBodyBytes) {
          return this.#fail({ code: 'ISO_ERR_HTTP_BODY_TOO_LARGE', reason: `request body larger than ${this.#limits.maxBodyBytes} bytes` }, head);
        }
        this.#current = head;
        this.#framing = framing;
        this.#body.clear();
        this.#sink.onHead(head, framing);
        if (framing.chunked) {
          this.#state = 'chunked';
          this.#chunked.reset();
        } else {
          this.#state = 'length';
        }
      } else if (this.#state === 'length') {
        const want = (this.#framing?.contentLength ?? 0) - this.#body.received;
        if (want > 0) {
          const take = Math.min(want, n - at);
          this.#body.view(input.subarray(at, at + take));
          at += take;
        }
      } else {
        const r = this.#chunked.push(input, at);
        if (r === CHUNKED_MORE) return EMPTY_BUF;
        if (r === CHUNKED_FAULT) return this.#fail(this.#chunked.fault ?? UNKNOWN, this.#current);
        at = r;
        if (!this.#complete()) return input.subarray(at);
        continue;
      }
      if (this.#state === 'length' && this.#body.received === (this.#framing?.contentLength ?? 0) && !this.#complete()) return input.subarray(at);
    }
    // A request without a body completes as soon as its head does, even at the end of the input.
    if (this.#state === 'length' && this.#body.received === (this.#framing?.contentLength ?? 0) && !this.#complete()) return EMPTY_BUF;
    return EMPTY_BUF;
  }

  /** Emits the current request; returns the sink's answer (false: stop decoding). */
  #complete(): boolean {
    const head = this.#current;
    const framing = this.#framing;
    if (head === null || framing === null) return true;
    this.#body.clear();
    this.#current = null;
    this.#framing = null;
    this.#head.reset();
    this.#state = head.version === '0.9' ? 'done' : 'head';
    return this.#sink.onRequest({ head, framing });
  }

  #fail(fault: HttpFault, head: RequestHead | null): Buffer {
    this.#state = 'done';
    this.#body.clear();
    this.#sink.onFault(fault, head);
    return EMPTY_BUF;
  }
}

/**
 * V8 keeps the hidden classes (maps) of the decoder's objects alive only through live instances,
 * and optimized code depends on them weakly: a full GC that finds no decoder (a server idle between
 * connections) drops them and deoptimizes the whole decoder, which then runs unoptimized until it is
 * recompiled (tens of ms). One idle decoder, kept for the life of the process, keeps them alive.
 * (It is held through a function, so that it lives in the module's context.)
 */
const keptForMaps: RequestDecoder[] = [];
function keepMaps(): void {
  // Any complete Limits gives the objects their shapes; the defaults are one at hand.
  const limits = resolveLimits(undefined);
  keptForMaps.push(new RequestDecoder(limits, { onStart: () => undefined, onHead: () => undefined, onBody: () => undefined, onRequest: () => true, onFault: () => undefined }));
}
keepMaps();
