// Per-tenant quotas (maxServers, maxSourceBytes, total memoryMb): config defaults, per-tenant overrides, 403 ISO_ERR_API_QUOTA naming the quota.

import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { addTenant, example, freePort, startService, tempDataDir } from './helpers/service.js';

t.test('quotas from tenant overrides and from the config', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const small = addTenant(dataDir, 'small', '--max-servers', '2', '--max-source-bytes', '2000', '--memory-mb', '100');
  const other = addTenant(dataDir, 'other');
  const config = path.join(dataDir, 'config.json');
  writeFileSync(config, JSON.stringify({ quotas: { maxServers: 1 } }));
  const svc = await startService(t, ['--config', config], {}, { dataDir });
  const hello = example('hello.js');
  const post = async (token: string, body: Record<string, unknown>): Promise<{ status: number; body: any }> =>
    svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: hello, ...body }, token);

  const big = `${hello}\n// ${'x'.repeat(2000)}\n`;
  const r1 = await post(small, { source: big });
  t.equal(r1.status, 403, 'source over maxSourceBytes');
  t.equal(r1.body.error.code, 'ISO_ERR_API_QUOTA');
  t.match(r1.body.error.message, /^quota maxSourceBytes of tenant "small" exceeded: the source is \d+ bytes, at most 2000 are allowed$/);

  const r2 = await post(small, { limits: { memoryMb: 128 } });
  t.equal(r2.status, 403, 'memory over the total');
  t.match(r2.body.error.message, /^quota memoryMb of tenant "small" exceeded: its servers use 0 MiB, this one asks 128 MiB/);
  t.equal((await post(small, { limits: { memoryMb: 64 } })).status, 201);
  const r3 = await post(small, { limits: { memoryMb: 40 } });
  t.equal(r3.status, 403, 'memory summed across servers');
  t.match(r3.body.error.message, /^quota memoryMb of tenant "small" exceeded: its servers use 64 MiB, this one asks 40 MiB/);
  t.equal((await post(small, { limits: { memoryMb: 32 } })).status, 201);
  const r4 = await post(small, { limits: { memoryMb: 8 } });
  t.equal(r4.status, 403, 'a third server');
  t.match(r4.body.error.message, /^quota maxServers of tenant "small" exceeded: it has 2 servers, at most 2 are allowed$/);

  t.equal((await post(other, {})).status, 201, 'the config default (1) applies to a tenant without overrides');
  const r5 = await post(other, {});
  t.equal(r5.status, 403);
  t.match(r5.body.error.message, /quota maxServers of tenant "other" exceeded: it has 1 servers, at most 1/);

  const list = await svc.api('GET', '/servers', undefined, small);
  const first = list.body.servers[0] as { httpdid: number };
  t.equal((await svc.api('DELETE', `/servers/${first.httpdid}`, undefined, small)).status, 204);
  t.equal((await post(small, { limits: { memoryMb: 64 } })).status, 201, 'a deleted server frees its share');
});
