// Reserved ports from the config (and always the API's own port) are refused with 403 naming the rule, on every host.

import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { example, freePort, startService, tempDataDir } from './helpers/service.js';

t.test('reserved ports', async (t) => {
  const dir = tempDataDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const reserved = await freePort();
  const config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ reservedPorts: [reserved, 9999] }));
  const svc = await startService(t, ['--config', config]);
  for (const host of ['127.0.0.1', 'localhost', '::1']) {
    const r = await svc.api('POST', '/servers', { host, port: reserved, source: example('hello.js') });
    t.equal(r.status, 403, host);
    t.equal(r.body.error.code, 'ISO_ERR_API_ADDRESS_NOT_ALLOWED');
    t.equal(r.body.error.message, `port ${reserved} is reserved (reserved ports: ${reserved}, 9999)`);
    const api = await svc.api('POST', '/servers', { host, port: svc.apiPort, source: example('hello.js') });
    t.equal(api.status, 403, `the API port on ${host}`);
    t.match(api.body.error.message, new RegExp(`^port ${svc.apiPort} on ${host.replace(/\./g, '\\.')} is reserved: it is the control API's own address$`));
  }
  t.equal((await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: example('hello.js') })).status, 201, 'other ports are fine');
});
