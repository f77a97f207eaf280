// Writing to a client socket: a serialized answer in one write, the interim 100 Continue, and closing after the last answer while what the client still sends is read and dropped.

import type { Socket } from 'node:net';
import type { Serialized } from '../http1/response-writer.js';

/** The interim response sent when a handler first waits for a body announced with `Expect: 100-continue`. */
export const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** How long a closing connection may keep sending before it is destroyed, ms. */
export const LINGER_MS = 2000;

/** Writes one answer; several chunks (head and body) are corked into one write. */
export function writeSerialized(socket: Socket, out: Serialized): void {
  if (out.chunks.length === 1) {
    socket.write(out.chunks[0] as Uint8Array);
    return;
  }
  socket.cork();
  for (const c of out.chunks) socket.write(c);
  socket.uncork();
}

/** Ends the socket after what was written; keeps reading (and discarding) for {@link LINGER_MS} so the client sees the response rather than a reset. */
export function endAndLinger(socket: Socket): void {
  socket.end();
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
