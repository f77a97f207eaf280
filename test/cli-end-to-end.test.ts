// The client CLI end to end against a live service: deploy → ls → show → logs → rm, as tables and as --json.

import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runCli, runMany } from './helpers/cli.js';
import { freePort, startService } from './helpers/service.js';
import { isRefused } from './helpers/raw-http.js';

const HANDLER = `export default function handler(request) {
  console.log('served ' + request.path);
  return { version: '1.1', statuscode: 200, headers: { 'Content-Type': 'text/plain' }, message: 'hello ' + request.path + '\\n' };
}
`;

const svc = await startService(t);

t.test('deploy, ls, show, logs, rm through the CLI', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'handler.js');
  writeFileSync(file, HANDLER);
  const env = { ISOHTTPD_URL: svc.url };
  const port = await freePort();

  const deployed = await runCli(['deploy', file, '--port', String(port), '--memory-mb', '32', '--timeout-ms', '500'], env);
  t.equal(deployed.code, 0, deployed.stderr);
  t.equal(deployed.stderr, '');
  const m = /^deployed httpdid (\d+) on http:\/\/127\.0\.0\.1:(\d+)\/ \(memory 32 MiB, timeout 500 ms\)\n$/.exec(deployed.stdout);
  t.ok(m, `deploy says what it did: ${deployed.stdout}`);
  const id = Number(m?.[1]);
  t.equal(Number(m?.[2]), port);

  const res = await fetch(`http://127.0.0.1:${port}/there`);
  t.equal(await res.text(), 'hello /there\n', 'the deployed handler serves');

  // The reading commands are independent: run together.
  const [ls, lsJson, show, withSource, showJsonRun, logs, logsJsonRun] = await runMany(
    [['ls'], ['ls', '--json'], ['show', String(id)], ['show', String(id), '--source'], ['show', String(id), '--json'], ['logs', String(id)], ['logs', String(id), '--json']],
    env,
  );
  if (ls === undefined || lsJson === undefined || show === undefined || withSource === undefined || showJsonRun === undefined || logs === undefined || logsJsonRun === undefined)
    throw new Error('a run is missing');
  t.equal(ls.code, 0, ls.stderr);
  const [header, row, ...more] = ls.stdout.trimEnd().split('\n');
  t.match(header, /^ID\s+ADDRESS\s+STATE\s+VERSION\s+REQUESTS\s+MEMORY\s+TIMEOUT\s+CREATED$/);
  t.match(row, new RegExp(`^${id}\\s+127\\.0\\.0\\.1:${port}\\s+running\\s+1\\s+\\d+\\s+32 MiB\\s+500 ms\\s+\\d{4}-`));
  t.same(more, [], 'one server, one row');

  t.equal(lsJson.code, 0);
  const list = JSON.parse(lsJson.stdout) as { servers: Array<{ httpdid: number; port: number }> };
  t.same(
    list.servers.map((s) => [s.httpdid, s.port]),
    [[id, port]],
    "--json is the API's list",
  );
  // The heap figure is sampled on the worker's heartbeat (every 250 ms), so it may move between the two reads.
  const withoutHeap = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'heapUsedBytes' || k === 'statsAgeMs' ? undefined : x)));
  const api = (await svc.api('GET', '/servers')).body;
  t.same(withoutHeap(list), withoutHeap(api), 'the same JSON the API answers (apart from the sampled heap figure and the age of each read)');
  t.ok(Number.isSafeInteger((list.servers[0] as { stats?: { heapUsedBytes?: unknown } } | undefined)?.stats?.heapUsedBytes), 'the heap figure is there');

  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, new RegExp(`^httpdid\\s+${id}$`, 'm'));
  t.match(show.stdout, /^state\s+running$/m);
  t.match(show.stdout, /^limits\.memoryMb\s+32$/m);
  t.match(show.stdout, /^stats\.outcomes\.ok\s+\d+$/m);
  t.notMatch(show.stdout, /console\.log/, 'no source unless asked');
  t.ok(withSource.stdout.endsWith(HANDLER), '--source prints the source after the table');
  const showJson = JSON.parse(showJsonRun.stdout) as { httpdid: number; host: string; limits: { timeoutMs: number } };
  t.match(showJson, { httpdid: id, host: '127.0.0.1', port, state: 'running', limits: { memoryMb: 32, timeoutMs: 500 } });

  t.equal(logs.code, 0, logs.stderr);
  t.match(logs.stdout, /^\d{4}-\d\d-\d\dT\S+Z\s+log\s+served \/there$/m, "the handler's console line");
  const logsJson = JSON.parse(logsJsonRun.stdout) as { lines: Array<{ level: string; message: string }> };
  t.match(logsJson.lines, [{ level: 'log', message: 'served /there' }]);

  const rm = await runCli(['rm', String(id)], env);
  t.equal(rm.code, 0, rm.stderr);
  t.equal(rm.stdout, `removed httpdid ${id}\n`);
  t.ok(await isRefused(port), 'the port is released');
  const empty = await runCli(['ls'], env);
  t.equal(empty.stdout, 'no servers\n');
  t.same(JSON.parse((await runCli(['ls', '--json'], env)).stdout), { servers: [] });
});

t.test('--url overrides ISOHTTPD_URL', async (t) => {
  const r = await runCli(['ls', '--json', '--url', svc.url], { ISOHTTPD_URL: 'http://127.0.0.1:1' });
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { servers: [] });
});
