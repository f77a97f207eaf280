// Helpers of the outbound fetch tests: a local upstream (node:http on loopback) and a service whose config file opens loopback networks to outbound fetch.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Service, startService, type Teardown } from './service.js';

/** A local HTTP server for a test: its port, and what it was sent. */
export interface Upstream {
  readonly port: number;
  /** Requests received: method, url, headers and body as text. */
  readonly seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
}

/** Starts `handler` as a node:http server on `host` (loopback), closed at teardown. */
export async function upstream(t: Teardown, handler: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void, host = '127.0.0.1'): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, seen };
}

/** Starts the service with a config file whose `egressAllowNetworks` is `networks` (none: the file is not written). */
export async function egressService(t: Teardown, networks: readonly string[] | null, extraArgs: string[] = []): Promise<Service> {
  if (networks === null) return startService(t, extraArgs);
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-egress-'));
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ egressAllowNetworks: networks }));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return startService(t, ['--config', file, ...extraArgs]);
}

/** GETs `path` of a tenant server on 127.0.0.1; resolves with its status and body text. */
export async function get(port: number, urlPath: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`);
  return { status: res.status, text: await res.text() };
}
