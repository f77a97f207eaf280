// The HTTP/1.x request decoder: bytes in any split → complete requests (head, framing, body), or the fault that ends the connection.

import type { Limits } from '../limits.js';
import { ChunkedDecoder } from './chunked-decoder.js';
import { analyzeFraming, contentLengthCheck, isFault, type Framing } from './framing.js';
import { HeadParser, type HttpFault, type RequestHead } from './head-parser.js';

/** A complete request: its head, framing and whole body (an exactly-sized buffer of its own). */
export interface DecodedRequest {
  readonly head: RequestHead;
  readonly framing: Framing;
  readonly body: Uint8Array;
}

/** Where the decoder reports what it found. */
export interface DecoderSink {
  /** The first byte of a new request arrived (start the headers and request timers). */
  onStart(): void;
  /** The head was accepted (stop the headers timer). `expectContinue` heads want a 100 before their body. */
  onHead(head: RequestHead, framing: Framing): void;
  /**
   * Body bytes as they arrive (views of the input: copy to keep beyond the call). When a sink has
   * this, bodies are streamed to it and `onRequest` gets an empty body.
   */
  onBody?(chunk: Buffer): void;
  /** A request is complete. Return false to stop decoding: `push` then returns the unread bytes. */
  onRequest(req: DecodedRequest): boolean;
  /** The input is refused; nothing more will be decoded. `head` is the request it belongs to, if its head was read. */
  onFault(fault: HttpFault, head: RequestHead | null): void;
}

const EMPTY = new Uint8Array(0);

/** Joins received body pieces into one exact-size buffer that shares memory with nothing else. */
function join(parts: Buffer[], total: number): Uint8Array {
  if (total === 0) return EMPTY;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Decodes a stream of requests. Memory is bounded by the limits: a head by the line and header
 * limits, a body by `maxBodyBytes` (checked from Content-Length before any body byte, and while
 * chunks arrive); body bytes are kept as received, never pre-allocated from a declared length.
 * After an HTTP/0.9 request or a fault, nothing more is decoded.
 */
export class RequestDecoder {
  readonly #limits: Limits;
  readonly #sink: DecoderSink;
  readonly #head: HeadParser;
  #state: 'head' | 'length' | 'chunked' | 'done' = 'head';
  #current: RequestHead | null = null;
  #framing: Framing | null = null;
  #parts: Buffer[] = [];
  #received = 0;
  #chunked: ChunkedDecoder | null = null;

  constructor(limits: Limits, sink: DecoderSink) {
    this.#limits = limits;
    this.#sink = sink;
    this.#head = new HeadParser(limits, contentLengthCheck());
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
    let chunk = input;
    while (chunk.length > 0 && this.#state !== 'done') {
      if (this.#state === 'head') {
        const wasStarted = this.#head.started;
        const r = this.#head.push(chunk);
        if (!wasStarted && this.#head.started) this.#sink.onStart();
        if (r.kind === 'more') return EMPTY_BUF;
        if (r.kind === 'fault') return this.#fail(r.fault, null);
        chunk = r.rest;
        const framing = analyzeFraming(r.head);
        if (isFault(framing)) return this.#fail(framing, r.head);
        if (framing.chunked === false && framing.contentLength > this.#limits.maxBodyBytes) {
          return this.#fail({ code: 'ISO_ERR_HTTP_BODY_TOO_LARGE', reason: `request body larger than ${this.#limits.maxBodyBytes} bytes` }, r.head);
        }
        this.#current = r.head;
        this.#framing = framing;
        this.#parts = [];
        this.#received = 0;
        this.#sink.onHead(r.head, framing);
        if (framing.chunked) {
          this.#state = 'chunked';
          this.#chunked = new ChunkedDecoder(this.#limits, (d) => {
            if (this.#sink.onBody !== undefined) this.#sink.onBody(d);
            else this.#parts.push(Buffer.from(d));
            this.#received += d.length;
          });
        } else {
          this.#state = 'length';
        }
      } else if (this.#state === 'length') {
        const want = (this.#framing?.contentLength ?? 0) - this.#received;
        if (want > 0) {
          const take = Math.min(want, chunk.length);
          if (this.#sink.onBody !== undefined) this.#sink.onBody(chunk.subarray(0, take));
          else this.#parts.push(chunk.subarray(0, take));
          this.#received += take;
          chunk = chunk.subarray(take);
        }
      } else if (this.#chunked !== null) {
        const r = this.#chunked.push(chunk);
        if (r.kind === 'more') return EMPTY_BUF;
        if (r.kind === 'fault') return this.#fail(r.fault, this.#current);
        chunk = chunk.subarray(r.consumed);
        this.#chunked = null;
        if (!this.#complete()) return chunk;
        continue;
      }
      if (this.#state === 'length' && this.#received === (this.#framing?.contentLength ?? 0) && !this.#complete()) return chunk;
    }
    // A request without a body completes as soon as its head does, even at the end of the input.
    if (this.#state === 'length' && this.#received === (this.#framing?.contentLength ?? 0) && !this.#complete()) return EMPTY_BUF;
    return EMPTY_BUF;
  }

  /** Emits the current request; returns the sink's answer (false: stop decoding). */
  #complete(): boolean {
    const head = this.#current;
    const framing = this.#framing;
    if (head === null || framing === null) return true;
    const body = this.#sink.onBody !== undefined ? EMPTY : join(this.#parts, this.#received);
    this.#parts = [];
    this.#current = null;
    this.#framing = null;
    this.#head.reset();
    this.#state = head.version === '0.9' ? 'done' : 'head';
    return this.#sink.onRequest({ head, framing, body });
  }

  #fail(fault: HttpFault, head: RequestHead | null): Buffer {
    this.#state = 'done';
    this.#parts = [];
    this.#sink.onFault(fault, head);
    return EMPTY_BUF;
  }
}

const EMPTY_BUF = Buffer.alloc(0);
