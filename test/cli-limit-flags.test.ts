// Every limit as a client flag: deploy sends each one given, update takes limits without a FILE, a decimal for cpuShare, a value of the wrong type is a usage error, one out of range is the API's 400 naming the limit.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { EXIT, runCli } from './helpers/cli.js';
import { example, freePort, startService } from './helpers/service.js';

interface Prop {
  type: 'integer' | 'number';
  minimum: number;
  maximum: number;
  default: number;
}
const PROPS = (JSON.parse(readFileSync(new URL('../schemas/limits.json', import.meta.url), 'utf8')) as { properties: Record<string, Prop> }).properties;
const flag = (name: string): string => `--${name.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`)}`;

t.test('deploy with every limit flag; update with limits only', async (t) => {
  const svc = await startService(t);
  const env = { ISOHTTPD_URL: svc.url };
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-flags-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'h.js');
  writeFileSync(file, example('hello.js'));
  // A value other than the default for each, within its range.
  const wanted: Record<string, number> = {};
  for (const [name, p] of Object.entries(PROPS)) {
    let v = p.type === 'integer' ? Math.min(p.maximum, p.default + 1) : Math.round(Math.min(p.maximum, p.default + 0.05) * 100) / 100;
    if (v === p.default) v = p.type === 'integer' ? p.default - 1 : p.default - 0.05;
    wanted[name] = v;
  }
  const args = Object.entries(wanted).flatMap(([name, v]) => [flag(name), String(v)]);
  const r = await runCli(['deploy', file, '--port', String(await freePort()), '--json', ...args], env);
  t.equal(r.code, EXIT.ok, r.stderr);
  const s = JSON.parse(r.stdout) as { httpdid: number; limits: Record<string, number> };
  for (const [name, v] of Object.entries(wanted)) t.equal(s.limits[name], v, `${flag(name)} ${v} reached the server`);

  const u = await runCli(['update', String(s.httpdid), '--timeout-ms', '432'], env);
  t.equal(u.code, EXIT.ok, u.stderr);
  t.match(u.stdout, /to version 2/, 'limits without a FILE');
  const after = await svc.api('GET', `/servers/${s.httpdid}`);
  t.equal(after.body.limits.timeoutMs, 432);
  t.equal(after.body.limits.memoryMb, wanted['memoryMb'], 'the other limits kept');
});

t.test('flag values: the type is checked here, the range by the API', async (t) => {
  const svc = await startService(t);
  const env = { ISOHTTPD_URL: svc.url };
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-flags-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'h.js');
  writeFileSync(file, example('hello.js'));
  const port = String(await freePort());
  const frac = await runCli(['deploy', file, '--port', port, '--max-connections', '1.5'], env);
  t.equal(frac.code, EXIT.usage);
  t.match(frac.stderr, /--max-connections must be a whole number, not "1\.5"/);
  const word = await runCli(['deploy', file, '--port', port, '--cpu-share', 'half'], env);
  t.equal(word.code, EXIT.usage);
  t.match(word.stderr, /--cpu-share must be a number, not "half"/);
  const big = await runCli(['deploy', file, '--port', port, '--memory-mb', '99999'], env);
  t.equal(big.code, EXIT.apiError, 'out of range: the API refuses');
  t.match(big.stderr, /400 ISO_ERR_API_BAD_REQUEST: body\.limits\.memoryMb must be <= 512/);
  const none = await runCli(['update', '1'], env);
  t.equal(none.code, EXIT.usage);
  t.match(none.stderr, /update needs FILE, a limit flag \(e\.g\. --timeout-ms 500\), or both/);
  t.equal((await svc.api('GET', '/servers')).body.servers.length, 0, 'nothing created');
});
