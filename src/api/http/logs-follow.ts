// `GET /servers/:httpdid/logs?follow=1`: a server's console lines, then new ones as they come, as NDJSON until the client goes, the server is deleted or the service stops (the last line says which).

import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerManager } from '../control/server-manager.js';
import type { Caller } from './auth.js';

/**
 * Most bytes of NDJSON a follower may have queued in the control process (beyond what the
 * socket itself buffers). Lines arriving while a slow client has this much unread are dropped,
 * and a `{"dropped": N, "time"}` line takes their place once it reads again.
 */
export const FOLLOW_QUEUE_BYTES = 1024 * 1024;

/**
 * After this long without a line, an empty line is sent: it keeps idle connections (and clients
 * with a body timeout, like fetch's 300 s) from giving up, and finds clients that went away.
 */
export const FOLLOW_KEEPALIVE_MS = 30_000;

/** Why a follow stream ended, as its last line says. */
export type FollowEnd = 'deleted' | 'stopping';

/** The NDJSON stream of one follower (of `logs?follow=1` or `tail`): its entries, a marker where some were dropped, empty lines while idle. */
export class ConsoleStream extends Readable {
  #dropped = 0;
  #quiet = true;
  readonly #keepAlive: NodeJS.Timeout;

  /** @param keepAliveMs idle time before an empty line is sent, ms */
  constructor(keepAliveMs = FOLLOW_KEEPALIVE_MS) {
    super({ highWaterMark: 16 * 1024 });
    this.#keepAlive = setInterval(() => {
      if (this.#quiet && this.readableLength === 0) this.push('\n');
      this.#quiet = true;
    }, keepAliveMs);
    this.#keepAlive.unref();
  }

  /** Queues one line, or drops it (counted) while the queue is full. */
  add(line: object): void {
    if (this.destroyed || this.readableEnded) return;
    if (this.readableLength >= FOLLOW_QUEUE_BYTES) {
      this.#dropped++;
      return;
    }
    this.#flushDropped();
    this.#quiet = false;
    this.push(`${JSON.stringify(line)}\n`);
  }

  /** `n` lines were dropped before they reached this stream (a worker's own bound): said with the next marker. */
  countDropped(n: number): void {
    this.#dropped += n;
  }

  #flushDropped(): void {
    if (this.#dropped === 0) return;
    this.push(`${JSON.stringify({ dropped: this.#dropped, time: new Date().toISOString() })}\n`);
    this.#dropped = 0;
  }

  /** The reader wants more: say how many lines it missed, if any. */
  override _read(): void {
    this.#flushDropped();
  }

  /**
   * No more lines: ends the response after what is queued, with a last line `{"end": why, "time"}`
   * (`deleted`: the server was deleted; `stopping`: the service is stopping), so that a follower
   * tells either from a connection that broke.
   */
  finish(why: FollowEnd): void {
    clearInterval(this.#keepAlive);
    if (this.destroyed || this.readableEnded) return;
    this.#flushDropped();
    this.push(`${JSON.stringify({ end: why, time: new Date().toISOString() })}\n`);
    this.push(null);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    clearInterval(this.#keepAlive);
    callback(err);
  }
}

/**
 * Sends `stream` as the NDJSON answer of `reply` once `ready` settles (at once without it), and
 * calls `unfollow` when the stream ends or the client goes away.
 */
export type SendStream = (stream: ConsoleStream, unfollow: () => void, reply: FastifyReply, ready?: Promise<void>) => void;

/**
 * What `logs?follow=1` and `tail` share: the streams an app has open, each ended with its last
 * line `{"end": "stopping"}` before the app closes (otherwise a follower would hold the API open
 * through a shutdown).
 */
export function streamSender(app: FastifyInstance): SendStream {
  const open = new Set<ConsoleStream>();
  app.addHook('preClose', (done) => {
    for (const s of open) s.finish('stopping');
    done();
  });
  return (stream, unfollow, reply, ready) => {
    open.add(stream);
    const stop = (): void => {
      unfollow();
      open.delete(stream);
    };
    stream.once('end', stop);
    stream.once('close', stop);
    // The response is done or the client went away: stop following.
    reply.raw.once('close', () => {
      stop();
      if (!stream.destroyed) stream.destroy();
    });
    // Send the head right away, even with no line yet: a follower knows at once that it follows.
    reply.raw.once('pipe', () => reply.raw.flushHeaders());
    const send = (): void => void reply.type('application/x-ndjson').header('cache-control', 'no-store').send(stream);
    if (ready === undefined) send();
    else void ready.then(send);
  };
}

/** Answers a request with one server's console stream (bound to an app and its manager). @throws IsoError 404. */
export type FollowLogs = (caller: Caller, httpdid: number, reply: FastifyReply) => void;

/** Returns the handler of `?follow=1`. */
export function consoleFollowing(app: FastifyInstance, manager: ServerManager): FollowLogs {
  const send = streamSender(app);
  return (caller, httpdid, reply) => {
    // Both in one tick: no line is lost or repeated between the backlog and the subscription.
    const backlog = manager.consoleLines(caller, httpdid);
    const stream = new ConsoleStream();
    const unfollow = manager.followConsole(caller, httpdid, { line: (l) => stream.add(l), end: () => stream.finish('deleted') });
    for (const line of backlog) stream.add(line);
    send(stream, unfollow, reply);
  };
}
