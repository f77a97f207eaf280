// Profiles the worker's hot path in one process: a TenantSandbox and Connections on a loopback server, loaded by wrk (or autocannon), with the V8 CPU profiler; writes bench/profile-<scenario>.cpuprofile (for a flame graph in Chrome DevTools) and prints the top functions by self time.

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import net from 'node:net';
import { autocannonLoad, wrkBinary, wrkLoad, type LoadSpec } from './load.js';

type SandboxModule = typeof import('../src/sandbox/tenant-sandbox.js');
type ConnectionModule = typeof import('../src/host/worker/connection.js');
type LimitsModule = typeof import('../src/core/limits.js');
const dist = (p: string): string => new URL(`../dist/${p}`, import.meta.url).href;
const { TenantSandbox } = (await import(dist('sandbox/tenant-sandbox.js'))) as SandboxModule;
const { Connection } = (await import(dist('host/worker/connection.js'))) as ConnectionModule;
const { resolveLimits } = (await import(dist('core/limits.js'))) as LimitsModule;

const which = process.argv[2] ?? 'hello';
const seconds = Number(process.argv[3] ?? 8);
const HELLO = "export default function handler(request) { return { version: '1.1', statuscode: 200, headers: { 'content-type': 'text/plain' }, message: 'hello world' }; }";
const ECHO = "export default function handler(request) { return { version: '1.1', statuscode: 200, headers: { 'content-type': 'application/json' }, message: request.datastream.text() }; }";
const limits = resolveLimits({});
const sandbox = await TenantSandbox.create(which === 'echo' ? ECHO : HELLO, limits, { onCatastrophicError: () => undefined, onConsole: () => undefined });
const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  new Connection(socket, { httpdid: 1, limits, invoke: (json, body) => sandbox.invoke(json, body), report: () => undefined, tailed: () => false, tail: () => undefined, exposeErrors: () => false });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const addr = server.address();
const spec: LoadSpec = {
  url: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/`,
  connections: 50,
  durationS: seconds,
  ...(which === 'echo' ? { method: 'POST' as const, body: JSON.stringify({ pad: 'x'.repeat(4084) }), contentType: 'application/json' } : {}),
};
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const result = wrkBinary() !== null ? await wrkLoad(spec) : await autocannonLoad(spec);
const { profile } = await session.post('Profiler.stop');
session.disconnect();
process.stdout.write(`${which}: ${JSON.stringify(result)}\n`);
server.close();
await sandbox.close();

const file = new URL(`./profile-${which}.cpuprofile`, import.meta.url);
writeFileSync(file, JSON.stringify(profile));
const time = new Map<number, number>();
(profile.samples ?? []).forEach((id, i) => time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 0)));
const self = new Map<string, number>();
let total = 0;
for (const n of profile.nodes) {
  const t = time.get(n.id) ?? 0;
  total += t;
  const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + t);
}
process.stdout.write(`main thread, top self time (${file.pathname}); the isolate's own work runs on isolated-vm's threads and shows here as (idle):\n`);
for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${((100 * t) / total).toFixed(1).padStart(6)}%  ${k}\n`);
