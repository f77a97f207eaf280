// The API's rate limit per token (config rateLimit): over it, 429 ISO_ERR_API_RATE_LIMITED with Retry-After; other tokens and /healthz unaffected.

import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { addTenant, startService, tempDataDir } from './helpers/service.js';

t.test('429 past the limit, per token', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const a = addTenant(dataDir, 'a');
  const b = addTenant(dataDir, 'b');
  const config = path.join(dataDir, 'config.json');
  writeFileSync(config, JSON.stringify({ rateLimit: { max: 5, timeWindowMs: 600000 } }));
  const svc = await startService(t, ['--config', config], {}, { dataDir });
  for (let i = 0; i < 5; i++) t.equal((await svc.api('GET', '/servers', undefined, a)).status, 200, `request ${i + 1}`);
  const r = await svc.api('GET', '/servers', undefined, a);
  t.equal(r.status, 429);
  t.equal(r.body.error.code, 'ISO_ERR_API_RATE_LIMITED');
  t.match(r.body.error.message, /^more than 5 API requests in 600000 ms with this token; retry in /);
  t.ok(Number(r.headers.get('retry-after')) > 0, 'Retry-After');
  t.equal((await svc.api('GET', '/servers', undefined, b)).status, 200, 'another token has its own budget');
  for (let i = 0; i < 10; i++) t.equal((await svc.api('GET', '/healthz')).status, 200, '/healthz is exempt');
});
