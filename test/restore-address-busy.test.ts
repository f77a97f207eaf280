// A stored server whose address another process holds at start-up is not failed for good: it shows `failed` with a reason saying it is retried, stays `running` in the registry, and serves as soon as the address is free.

import { rmSync } from 'node:fs';
import net from 'node:net';
import t from 'tap';
import { example, startService, tempDataDir } from './helpers/service.js';

t.test('an address in use at start-up is retried until it is free', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startService(t, [], { ISOHTTPD_LOG_LEVEL: 'info' }, { dataDir });
  const { httpdid, port } = await first.deploy(example('hello.js'));
  await first.stop();

  // Another program takes the port meanwhile.
  const squatter = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', () => r()));
  const svc = await startService(t, [], { ISOHTTPD_LOG_LEVEL: 'info' }, { dataDir });
  const waiting = (await svc.api('GET', `/servers/${httpdid}`)).body;
  t.equal(waiting.state, 'failed', 'not serving while the address is taken');
  t.match(waiting.reason, /not restored yet: .*in use.*retried every 1 s until it can be bound; still running in the registry/, 'the reason says it is retried');
  t.match(svc.output(), /server not restored yet: its address is in use; retrying/, 'the decision is logged');

  await new Promise<void>((r) => squatter.close(() => r()));
  let state = '';
  for (let i = 0; i < 50 && state !== 'running'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    state = (await svc.api('GET', `/servers/${httpdid}`)).body.state;
  }
  t.equal(state, 'running', 'running once the address is free');
  t.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'Hello from isohttpd! You asked for /\n', 'and served');
  t.match(svc.output(), /server restored: its address became free/);
  await svc.stop();

  const again = await startService(t, [], {}, { dataDir });
  t.equal((await again.api('GET', `/servers/${httpdid}`)).body.state, 'running', 'the registry never marked it failed');
});
