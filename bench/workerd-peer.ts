// workerd (Cloudflare's Workers runtime, from npm) as the second peer of the throughput scenarios: installed on first use into bench/.peers (not a dependency of the project), run with the same handlers written as Workers modules.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './service.js';

/** The workerd release the figures were taken with. */
export const WORKERD_VERSION = '1.20261117.1';
const PEERS = path.join(path.dirname(new URL(import.meta.url).pathname), '.peers');

/** The same handlers as bench/handlers.ts, as Workers modules. */
export const WORKERD_HANDLERS = {
  hello: "export default { async fetch(request) { return new Response('hello world', { headers: { 'content-type': 'text/plain' } }); } };",
  echo: "export default { async fetch(request) { return new Response(await request.text(), { headers: { 'content-type': 'application/json' } }); } };",
  stream:
    "const chunk = new Uint8Array(65536).fill(120); export default { async fetch(request) { let i = 0; return new Response(new ReadableStream({ pull(c) { if (i++ < 16) c.enqueue(chunk); else c.close(); } }), { headers: { 'content-type': 'application/octet-stream' } }); } };",
} as const;

/** The workerd binary, installed from npm into bench/.peers on first use; null when it cannot be (logged). */
export function workerdBinary(): string | null {
  const arch = process.arch === 'x64' ? '64' : process.arch;
  const bin = path.join(PEERS, 'node_modules', '@cloudflare', `workerd-${process.platform}-${arch}`, 'bin', 'workerd');
  if (!existsSync(bin)) {
    try {
      execFileSync('npm', ['install', '--prefix', PEERS, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', `workerd@${WORKERD_VERSION}`], { stdio: 'ignore', timeout: 300_000 });
    } catch (err) {
      process.stdout.write(`  workerd could not be installed from npm (${(err as Error).message}); its column stays empty\n`);
      return null;
    }
  }
  return existsSync(bin) ? bin : null;
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts workerd serving `module` on a free loopback port. */
export async function startWorkerd(bin: string, module: string): Promise<{ port: number; stop(): void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-workerd-'));
  const port = await freePort();
  writeFileSync(path.join(dir, 'worker.js'), module);
  writeFileSync(
    path.join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ]
);
const w :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.js") ],
  compatibilityDate = "2024-09-23",
);
`,
  );
  const proc = spawn(bin, ['serve', path.join(dir, 'config.capnp')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = (): void => {
    proc.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (await connects(port)) return { port, stop };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  stop();
  throw new Error('workerd did not start listening');
}
