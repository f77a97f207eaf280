// Writes a streamed response body to a client socket: pulls the next chunk only once the socket has taken the last (back-pressure), frames it (chunked or raw), and bounds the whole body by responseTimeoutMs.

import type { Socket } from 'node:net';
import type { Outcome } from '../../core/outcome.js';
import type { ResponseStream } from '../../core/response.js';
import { CHUNK_END, LAST_CHUNK, type StreamFraming, chunkHeader } from '../http1/response-writer.js';

/** How a streamed body ended. */
export type StreamEnd =
  /** Written whole (`complete`), or stopped because the client went away (`complete` false, not the handler's fault). */
  | { readonly outcome: 'ok'; readonly complete: boolean; readonly bytes: number }
  /** Cut off: the handler failed, or the response ran out of time; the client saw a truncated body. */
  | { readonly outcome: Exclude<Outcome, 'ok'>; readonly detail: string; readonly stack?: string; readonly bytes: number };

/**
 * Pumps `stream` to `socket` after its head was written. The handler's iterator is advanced only
 * when the socket's buffer is drained, so a slow reader holds at most one pull (up to 256 KiB from a
 * synchronous iterator, or one chunk the handler made) in the worker. Resolves when the body ended:
 * its last chunk written, or cut off (the caller then closes the connection without the last chunk,
 * so a chunked body is seen truncated).
 * @param responseTimeoutMs the whole body's time limit, ms
 */
export function writeStream(socket: Socket, stream: ResponseStream, framing: StreamFraming, responseTimeoutMs: number): Promise<StreamEnd> {
  if (framing === 'none') {
    stream.cancel('the response has no body (HEAD, or a status without content)');
    return Promise.resolve({ outcome: 'ok', complete: true, bytes: 0 });
  }
  return new Promise<StreamEnd>((resolve) => {
    let bytes = 0;
    let over = false;
    const finish = (end: StreamEnd): void => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      socket.off('close', onClose);
      socket.off('drain', onDrain);
      resolve(end);
    };
    const onClose = (): void => {
      stream.cancel('the client closed the connection');
      finish({ outcome: 'ok', complete: false, bytes });
    };
    const timer = setTimeout(() => {
      stream.cancel(`the response exceeded responseTimeoutMs (${responseTimeoutMs} ms)`);
      finish({ outcome: 'timeout', detail: `the streamed response exceeded its time limit (responseTimeoutMs ${responseTimeoutMs} ms) and was cut off`, bytes });
    }, responseTimeoutMs);
    const onDrain = (): void => void pump();
    socket.once('close', onClose);
    const pump = async (): Promise<void> => {
      for (;;) {
        const step = await stream.next();
        if (over) return;
        if (socket.destroyed) return onClose();
        if (step.done === true) {
          if (framing === 'chunked') socket.write(LAST_CHUNK);
          return finish({ outcome: 'ok', complete: true, bytes });
        }
        if (step.done === 'failed') {
          const failed = step.stack === undefined ? { outcome: step.outcome, detail: step.detail, bytes } : { outcome: step.outcome, detail: step.detail, stack: step.stack, bytes };
          return finish(failed);
        }
        bytes += step.bytes;
        // What one pull gathered goes as one HTTP chunk, its parts written as they are (no copy into one buffer).
        socket.cork();
        if (framing === 'chunked') socket.write(chunkHeader(step.bytes));
        for (const c of step.chunks) socket.write(c);
        if (framing === 'chunked') socket.write(CHUNK_END);
        socket.uncork();
        // Back-pressure: the next chunk is asked for only once the client has taken this one.
        if (socket.writableNeedDrain) {
          socket.once('drain', onDrain);
          return;
        }
      }
    };
    void pump();
  });
}
