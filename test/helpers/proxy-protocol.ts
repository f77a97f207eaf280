// Test helpers of the PROXY protocol tests: a service whose config sets `proxyProtocol.from`, a handler echoing the client address it sees, raw exchanges from a chosen local address, and PROXY v2 headers.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Service, startService, type Teardown } from './service.js';

/** The balancer's address in these tests (issue 17: the balancer on 127.0.0.10). */
export const BALANCER = '127.0.0.10';
/** A client's address, distinct from the balancer's and from the service's 127.0.0.1. */
export const CLIENT = '127.0.0.7';

/** A handler answering `{"ip": remoteipstr, "port": remoteportnum}`. */
export const ECHO_PEER = `export default function handler(request) {
  return { version: '1.1', statuscode: 200, headers: { 'Content-Type': 'application/json' }, message: JSON.stringify({ ip: request.remoteipstr, port: request.remoteportnum }) };
}
`;

/** Starts the service with `proxyProtocol.from` = `from` in its config file. */
export async function proxiedService(t: Teardown, from: readonly string[]): Promise<Service> {
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-proxy-'));
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ proxyProtocol: { from } }));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return startService(t, ['--config', file]);
}

/** What a raw exchange saw: the bytes received, whether the server closed (else the client gave up after `idleMs` of silence), the client's port. */
export interface Exchanged {
  readonly bytes: Buffer;
  readonly closed: boolean;
  readonly localPort: number;
}

/** Connects from `localAddress` to `host:port`, sends `parts` one after another, and reads until the server closes or `idleMs` of silence. */
export function exchangeFrom(localAddress: string, host: string, port: number, parts: ReadonlyArray<string | Buffer>, idleMs = 3000): Promise<Exchanged> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, localAddress });
    const chunks: Buffer[] = [];
    let localPort = 0;
    let timer: NodeJS.Timeout | undefined;
    const idle = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        sock.destroy();
        resolve({ bytes: Buffer.concat(chunks), closed: false, localPort });
      }, idleMs);
    };
    sock.on('connect', () => {
      localPort = sock.localPort ?? 0;
      for (const p of parts) sock.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
      idle();
    });
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      idle();
    });
    sock.on('close', () => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), closed: true, localPort });
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ECONNRESET') reject(e);
    });
  });
}

/** A PROXY v2 header (HAProxy doc/proxy-protocol.txt §2.2): PROXY, TCP over IPv4, `src:sport` → `dst:dport`; `len` overrides the length field. */
export function proxyV2(src: string, sport: number, dst: string, dport: number, len = 12): Buffer {
  const b = Buffer.alloc(28);
  Buffer.from('0d0a0d0a000d0a515549540a', 'hex').copy(b, 0);
  b[12] = 0x21;
  b[13] = 0x11;
  b.writeUInt16BE(len, 14);
  Buffer.from(src.split('.').map(Number)).copy(b, 16);
  Buffer.from(dst.split('.').map(Number)).copy(b, 20);
  b.writeUInt16BE(sport, 24);
  b.writeUInt16BE(dport, 26);
  return b;
}

/** A GET of `/` with Host `h`. */
export const GET = 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n';
