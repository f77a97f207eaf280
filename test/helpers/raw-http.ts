// Test helper: raw HTTP over a TCP socket, for exact bytes in and out.

import net from 'node:net';

/** One response as read off the wire. */
export interface RawResponse {
  statusLine: string;
  status: number;
  /** Lower-cased names; repeated names joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/** Sends `bytes` (string as latin1) and resolves with everything received until the server closes or `idleMs` of silence. */
export function exchange(port: number, bytes: string | Buffer | Array<string | Buffer>, opts: { host?: string; idleMs?: number; halfClose?: boolean } = {}): Promise<Buffer> {
  const parts = Array.isArray(bytes) ? bytes : [bytes];
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, opts.host ?? '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const idle = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        sock.destroy();
        resolve(Buffer.concat(chunks));
      }, opts.idleMs ?? 3000);
    };
    sock.on('connect', () => {
      for (const p of parts) sock.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
      if (opts.halfClose === true) sock.end();
      idle();
    });
    sock.on('data', (d) => {
      chunks.push(d);
      idle();
    });
    sock.on('close', () => {
      if (timer !== undefined) clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (timer !== undefined) clearTimeout(timer);
      if (e.code === 'ECONNRESET' && chunks.length > 0) resolve(Buffer.concat(chunks));
      else reject(e);
    });
  });
}

/**
 * Splits a byte stream into responses. Bodies are delimited by Content-Length; without one the
 * body runs to the end (as for a close-delimited response). Responses to HEAD requests are
 * named by index in `headIndexes` so their Content-Length is not read as a body.
 */
export function parseResponses(buf: Buffer, headIndexes: ReadonlySet<number> = new Set()): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = buf.indexOf('\r\n\r\n', pos);
    if (end === -1) throw new Error(`incomplete head: ${JSON.stringify(buf.subarray(pos).toString('latin1'))}`);
    const lines = buf.subarray(pos, end).toString('latin1').split('\r\n');
    const statusLine = lines[0] ?? '';
    const headers: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).toLowerCase();
      const value = line.slice(i + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const status = Number(statusLine.split(' ')[1]);
    let bodyEnd: number;
    if (headIndexes.has(out.length) || status < 200 || status === 204 || status === 304) bodyEnd = end + 4;
    else if (headers['content-length'] !== undefined) bodyEnd = end + 4 + Number(headers['content-length']);
    else bodyEnd = buf.length;
    out.push({ statusLine, status, headers, body: buf.subarray(end + 4, bodyEnd) });
    pos = bodyEnd;
  }
  return out;
}

/** Whether a TCP connection to the port is refused. */
export function isRefused(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/** A request whose body is sent one byte every `everyMs` ms on a connection of its own (see {@link trickleUpload}). */
export interface Trickle {
  /** Body bytes written so far. */
  sent(): number;
  /** Whether any byte of an answer has arrived. */
  answered(): boolean;
  /** Everything the server sent, once it closed the connection. */
  readonly closed: Promise<Buffer>;
  /** Stops sending. */
  stop(): void;
}

/** Sends `head` (with its Content-Length of `bodyBytes`) at once, then `fill` one byte every `everyMs` ms until the body is complete. */
export async function trickleUpload(port: number, head: string, bodyBytes: number, everyMs: number, fill = 'x'): Promise<Trickle> {
  const s = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  s.on('error', () => undefined);
  const closed = new Promise<Buffer>((r) => s.once('close', () => r(Buffer.concat(chunks))));
  await new Promise((r) => s.once('connect', r));
  s.write(head);
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < bodyBytes && !s.destroyed) {
      s.write(fill);
      sent++;
    }
  }, everyMs);
  void closed.then(() => clearInterval(timer));
  return { sent: () => sent, answered: () => chunks.length > 0, closed, stop: () => clearInterval(timer) };
}
