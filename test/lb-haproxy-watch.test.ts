// `isohttpd lb haproxy --registry … --watch MS --reload-pid PIDFILE` under a real master-worker HAProxy and a real PostgreSQL: traffic reaches the nodes, a node that stops listening is taken out by the check, a new address appears after a seamless reload (a keep-alive connection opened before it still works), a configuration HAProxy refuses and a registry that goes away leave the running one serving, SIGTERM exits 0.
// The nodes are stand-ins (node:http behind a PROXY v2 header decoder, answering their name), not isohttpd nodes: this is the balancer's unit.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { PostgresRegistry } from '../src/api/registry/postgres.js';
import { resolveLimits } from '../src/core/limits.js';
import { ProxyHeaderDecoder } from '../src/host/http1/proxy-protocol.js';
import { spawnCli } from './helpers/cli.js';
import { haproxyBinary, startHaproxyMaster } from './helpers/haproxy.js';
import { startPostgres } from './helpers/postgres.js';
import { freePort } from './helpers/service.js';
import { until } from './helpers/until.js';

/** The balancer's address: the frontends bind it, and it connects to the nodes from it. */
const BALANCER = '127.0.0.10';
/** The cluster's public host in the registry (--bind puts the frontends on BALANCER instead). */
const PUBLIC_HOST = '192.0.2.10';
/** Where the test's clients connect from. */
const CLIENT = '127.0.0.1';
/** How long any awaited change may take (checks every 2 s, rise/fall 2, reloads), ms. */
const DEADLINE_MS = 30_000;

/** A stand-in node: node:http servers on ports of its own address, each connection read past its PROXY v2 header first. */
class FakeNode {
  readonly name: string;
  readonly address: string;
  /** Connections whose header was LOCAL (HAProxy's health checks), count. */
  checks = 0;
  /** The client addresses the PROXY headers of requests named. */
  readonly clients = new Set<string>();
  readonly #http: http.Server;
  readonly #listeners = new Map<number, { server: net.Server; sockets: Set<net.Socket> }>();

  constructor(name: string, address: string) {
    this.name = name;
    this.address = address;
    this.#http = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(name);
    });
    // Longer than the test: a keep-alive connection stays open between its requests.
    this.#http.keepAliveTimeout = 120_000;
  }

  /** Starts serving `port` on its address. */
  async listen(port: number): Promise<void> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      const decoder = new ProxyHeaderDecoder();
      const onData = (chunk: Buffer): void => {
        const r = decoder.push(chunk);
        if (r.kind === 'more') return;
        socket.off('data', onData);
        if (r.kind === 'refused') {
          socket.destroy();
          return;
        }
        if (r.header.command === 'local') {
          this.checks++;
          socket.end();
          return;
        }
        if (r.header.source !== null) this.clients.add(r.header.source.address);
        socket.pause();
        if (r.rest.length > 0) socket.unshift(r.rest);
        this.#http.emit('connection', socket);
        socket.resume();
      };
      socket.on('data', onData);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.address, () => resolve());
    });
    this.#listeners.set(port, { server, sockets });
  }

  /** Stops serving `port`: refuses new connections there, and ends the open ones. */
  async unlisten(port: number): Promise<void> {
    const l = this.#listeners.get(port);
    if (l === undefined) return;
    this.#listeners.delete(port);
    const closed = new Promise<void>((resolve) => l.server.close(() => resolve()));
    for (const s of l.sockets) s.destroy();
    await closed;
  }

  async stop(): Promise<void> {
    for (const port of [...this.#listeners.keys()]) await this.unlisten(port);
  }
}

/** One GET through the balancer on a new connection from CLIENT: the node's name, or the error. */
function get(port: number): Promise<{ ok: true; body: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: BALANCER, port, path: '/', agent: false, localAddress: CLIENT, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve(res.statusCode === 200 ? { ok: true, body } : { ok: false, error: `status ${res.statusCode}` }));
      res.on('error', (e) => resolve({ ok: false, error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ ok: false, error: e.message }));
  });
}

/** A keep-alive connection through the balancer, one request at a time. */
class KeepAlive {
  readonly #socket: net.Socket;
  #buffer = '';
  #waiting: (() => void) | null = null;
  closed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.#buffer += d;
      this.#waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#waiting?.();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<KeepAlive> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: BALANCER, port, localAddress: CLIENT });
      s.once('connect', () => resolve(new KeepAlive(s)));
      s.once('error', reject);
    });
  }

  /** Sends a GET and resolves to its body (the node's name); rejects if the connection closes first. */
  async request(): Promise<string> {
    this.#socket.write('GET / HTTP/1.1\r\nHost: lb.test\r\n\r\n');
    for (;;) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end !== -1) {
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(this.#buffer.slice(0, end))?.[1] ?? Number.NaN);
        if (this.#buffer.length >= end + 4 + length) {
          const head = this.#buffer.slice(0, end);
          const body = this.#buffer.slice(end + 4, end + 4 + length);
          this.#buffer = this.#buffer.slice(end + 4 + length);
          if (!head.startsWith('HTTP/1.1 200 ')) throw new Error(`answered ${head.split('\r\n')[0]}`);
          if (/\r\nconnection: *close/i.test(head)) throw new Error('the node closes the connection');
          return body;
        }
      }
      if (this.closed) throw new Error('the connection closed');
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
      });
      this.#waiting = null;
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** The watcher process and what it printed. */
interface Watcher {
  readonly proc: ChildProcess;
  stdout(): string;
  stderr(): string;
}

function startWatcher(t: Test, args: readonly string[]): Watcher {
  const proc = spawnCli(args);
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return { proc, stdout: () => out, stderr: () => err };
}

/** The lines of `text` matching `re`. */
function lines(text: string, re: RegExp): string[] {
  return text.split('\n').filter((l) => re.test(l));
}

t.test('--watch keeps a running HAProxy current from the registry', { skip: haproxyBinary() === null ? 'haproxy is not installed' : false }, async (t) => {
  const pg = await startPostgres(t);
  const url = await pg.createDatabase();
  const reg = await PostgresRegistry.open(url, { poolSize: 2 });
  t.teardown(() => reg.close());
  const row = (httpdid: number, port: number) => ({
    httpdid,
    tenant: 'acme',
    host: PUBLIC_HOST,
    port,
    source: 'export default () => ({ statuscode: 200 });',
    limits: resolveLimits({}),
    exposeErrors: false,
    replicas: 2,
    state: 'running' as const,
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  const a = new FakeNode('a', '127.0.0.2');
  const b = new FakeNode('b', '127.0.0.3');
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  // Each port free on the balancer's and both nodes' addresses.
  const ports: number[] = [];
  while (ports.length < 3) {
    const p = await freePort(BALANCER);
    if (ports.includes(p)) continue;
    try {
      await a.listen(p);
      await b.listen(p);
      await a.unlisten(p);
      await b.unlisten(p);
      ports.push(p);
    } catch {
      await a.unlisten(p);
    }
  }
  const [p1 = 0, p2 = 0, p3 = 0] = ports;

  await reg.insertServer(row(1, p1));
  await reg.pool.query("INSERT INTO cluster_nodes (name, address, api_url) VALUES ('a', '127.0.0.2', 'http://127.0.0.2:7070'), ('b', '127.0.0.3', 'http://127.0.0.3:7070')");
  await a.listen(p1);
  await b.listen(p1);

  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-lbwatch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = path.join(dir, 'haproxy.cfg');
  const pidFile = path.join(dir, 'haproxy.pid');
  const watcher = startWatcher(t, ['lb', 'haproxy', '--registry', url, '--bind', BALANCER, '--source', BALANCER, '--watch', '200', '--out', cfg, '--reload-pid', pidFile]);
  const installs = (): string[] => lines(watcher.stdout(), /^haproxy: /);

  t.ok(await until(() => installs().length === 1, DEADLINE_MS), `the first configuration written ${watcher.stderr()}`);
  t.match(installs()[0], /^haproxy: 1 addresses, 2 nodes; wrote \S+haproxy\.cfg, not reloaded: no \S+haproxy\.pid \(HAProxy not started/, 'no HAProxy yet: written, not reloaded');
  const haproxy = await startHaproxyMaster(t, cfg, pidFile, [{ host: BALANCER, port: p1 }]);

  await t.test('requests through the balancer reach the nodes, which see the client', async (t) => {
    const seen = new Set<string>();
    const ok = await until(async () => {
      const r = await get(p1);
      if (r.ok) seen.add(r.body);
      return seen.size === 2;
    }, DEADLINE_MS);
    t.ok(ok, `both nodes answered (${[...seen].join(', ')})`);
    t.same([...a.clients, ...b.clients].sort(), [CLIENT, CLIENT], "each node's PROXY header named the client, not the balancer");
    t.ok(await until(() => a.checks > 0 && b.checks > 0, DEADLINE_MS), 'the TCP checks connected to that very port, with a PROXY v2 LOCAL header');
  });

  await t.test('a node that stops listening is taken out by the check; requests keep succeeding on the other', async (t) => {
    await b.unlisten(p1);
    const down = new RegExp(`Server be_\\w+_${p1}/b is DOWN`);
    t.ok(await until(() => down.test(haproxy.output()), DEADLINE_MS), 'HAProxy marked b down');
    const answers: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await get(p1);
      answers.push(r.ok ? r.body : `failed: ${r.error}`);
    }
    t.same(answers, Array(10).fill('a'), 'every request answered, by a');
    await b.listen(p1);
    t.ok(
      await until(async () => {
        const r = await get(p1);
        return r.ok && r.body === 'b';
      }, DEADLINE_MS),
      'b back in once it listens again',
    );
  });

  await t.test('a new address: a new frontend after a seamless reload; a keep-alive connection opened before it still works', async (t) => {
    const conn = await KeepAlive.open(p1);
    t.teardown(() => conn.close());
    const before = await conn.request();
    t.ok(before === 'a' || before === 'b', 'answered before the reload');
    // Served by a only: b, listed in the new backend too, refuses that port.
    await a.listen(p2);
    await reg.insertServer(row(2, p2));
    t.ok(await until(() => installs().length === 2, DEADLINE_MS), 'installed again');
    t.equal(installs()[1], `haproxy: 2 addresses, 2 nodes; reloaded pid ${haproxy.pid}`, 'the master reloaded');
    t.match(readFileSync(cfg, 'utf8'), new RegExp(`bind ${BALANCER.replaceAll('.', '\\.')}:${p2}\\n`), 'the file has the new frontend');
    t.ok(await until(async () => (await get(p2)).ok, DEADLINE_MS), 'the new frontend answers');
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await get(p2);
      answers.push(r.ok ? r.body : `failed: ${r.error}`);
    }
    t.same(answers, Array(5).fill('a'), "each request answered by a (b's refusal retried on a)");
    t.equal(await conn.request(), before, 'the connection opened before the reload still works, to the same node');
    t.equal(await conn.request(), before, 'and again');
    t.notOk(conn.closed, 'never closed');
    t.equal(haproxy.proc.exitCode, null, 'the master runs');
  });

  await t.test('a configuration haproxy -c refuses is not installed; the running one keeps serving', async (t) => {
    const installed = readFileSync(cfg, 'utf8');
    // A row no API writes (a port past 65535).
    await reg.insertServer(row(3, 70000));
    t.ok(await until(() => /haproxy -c refused the new configuration/.test(watcher.stderr()), DEADLINE_MS), 'refused, said on stderr');
    t.match(lines(watcher.stderr(), /haproxy -c refused/)[0] ?? '', /invalid port '70000'/, "with HAProxy's reason");
    t.equal(readFileSync(cfg, 'utf8'), installed, 'the file unchanged');
    t.equal(installs().length, 2, 'nothing installed');
    t.ok((await get(p1)).ok && (await get(p2)).ok, 'both addresses still served');
    await reg.pool.query('DELETE FROM servers WHERE httpdid = 3');
    await reg.insertServer(row(4, p3));
    t.ok(await until(() => installs().length === 3, DEADLINE_MS), 'once the row is gone, the next change installs');
    t.equal(installs()[2], `haproxy: 3 addresses, 2 nodes; reloaded pid ${haproxy.pid}`);
    t.equal(lines(watcher.stderr(), /haproxy -c refused/).length, 1, 'the refusal said once');
  });

  await t.test('the registry unreachable: one line, the running configuration stays, the watch goes on once it is back', async (t) => {
    const installed = readFileSync(cfg, 'utf8');
    await pg.stop();
    t.ok(await until(() => /cannot be reached/.test(watcher.stderr()), DEADLINE_MS), 'said on stderr');
    t.ok((await get(p1)).ok, 'still served meanwhile');
    await pg.start();
    t.ok(await until(() => / answers again/.test(watcher.stderr()), DEADLINE_MS), 'and that it answers again');
    t.equal(lines(watcher.stderr(), /cannot be reached/).length, 1, 'one line for the outage');
    t.equal(readFileSync(cfg, 'utf8'), installed, 'the configuration kept');
    await reg.pool.query('DELETE FROM servers WHERE httpdid = 4');
    t.ok(await until(() => installs().length === 4, DEADLINE_MS), 'a change after it is installed');
    t.equal(installs()[3], `haproxy: 2 addresses, 2 nodes; reloaded pid ${haproxy.pid}`);
  });

  await t.test('SIGTERM: exit 0', async (t) => {
    const exited = new Promise<number | null>((resolve) => watcher.proc.once('exit', (code) => resolve(code)));
    watcher.proc.kill('SIGTERM');
    t.equal(await exited, 0, `exit 0 ${watcher.stderr()}`);
    t.equal(haproxy.proc.exitCode, null, 'HAProxy keeps running');
  });
});
