// Hostile: a virtual host that keeps crashing its worker is not quarantined (a worker of its own would take its neighbours' connections): at the crash limit it fails, its names leave the shared address, and its neighbour on the same port, charged with nothing, serves on; a restart brings it back on the address.

import t from 'tap';
import { freePort, startService } from '../helpers/service.js';
import { ask, text } from '../helpers/vhosts.js';
import { hostile } from './helpers.js';

t.test('a crashing virtual host fails; its neighbour on the port serves on', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const port = await freePort();
  const bomb = await svc.api('POST', '/servers', { host: '127.0.0.1', port, hostnames: ['bomb.example'], source: hostile('() => new Array(1e9).fill(0)'), limits: { memoryMb: 64, timeoutMs: 10000 } });
  t.equal(bomb.status, 201);
  const good = await svc.api('POST', '/servers', {
    host: '127.0.0.1',
    port,
    hostnames: ['good.example'],
    source: "export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'good' })",
  });
  t.equal(good.status, 201);
  const id = bomb.body.httpdid as number;
  let state = (await svc.api('GET', `/servers/${id}`)).body;
  for (let i = 0; i < 30 && state.state !== 'failed'; i++) {
    const restarts = state.stats.workerRestarts as number;
    await ask(port, 'bomb.example', '/boom').catch(() => undefined);
    // Its worker is retired and replaced: wait until it is charged and answers again (or has failed).
    for (let j = 0; j < 150; j++) {
      state = (await svc.api('GET', `/servers/${id}`)).body;
      if (state.state === 'failed') break;
      const r = state.stats.workerRestarts > restarts ? await ask(port, 'bomb.example', '/ok').catch(() => null) : null;
      if (r?.status === 200) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    t.equal(text(await ask(port, 'good.example')), 'good', `the neighbour is served after crash ${i + 1}`);
  }
  t.equal(state.state, 'failed', 'failed at the crash limit');
  t.equal(state.quarantined, false, 'never quarantined');
  t.match(state.reason, /crashed the sandbox worker .* 3 times within 60 s$/);
  t.equal((await ask(port, 'bomb.example', '/ok')).status, 421, 'its names left the address');
  t.equal(text(await ask(port, 'good.example')), 'good', 'the neighbour serves on the same port');
  const neighbour = (await svc.api('GET', `/servers/${good.body.httpdid}`)).body;
  t.equal(neighbour.stats.workerRestarts, 0, 'the neighbour is charged with nothing');
  t.equal(neighbour.stats.outcomes.crashed, 0);

  // Restarted, it joins the address again under its names.
  const restarted = await svc.api('POST', `/servers/${id}/restart`);
  t.equal(restarted.status, 200, JSON.stringify(restarted.body));
  t.match(text(await ask(port, 'bomb.example', '/ok')), /^ok /);
  t.equal(text(await ask(port, 'good.example')), 'good');
});
