// Hostile: what a handler throws is read for the tenant's log under the request's deadline and bounded: a `stack` getter that never returns is a timeout, a huge stack (Error.prepareStackTrace) is cut to 4096 characters, a huge message to 1024; the server serves on.

import t from 'tap';
import { startService } from '../helpers/service.js';
import { get, hostile } from './helpers.js';

const ATTACK = `(r) => {
  if (r.path === '/loop-getter') { const e = new Error('x'); Object.defineProperty(e, 'stack', { get() { for (;;) {} } }); throw e; }
  if (r.path === '/proxy') throw new Proxy({}, { get() { for (;;) {} }, has() { return true; } });
  if (r.path === '/huge') { Error.prepareStackTrace = () => 's'.repeat(1e6); const e = new Error('m'.repeat(1e6)); Error.prepareStackTrace = undefined; throw e; }
  throw new Error('plain');
}`;

interface Entry {
  kind: string;
  path?: string;
  outcome?: string;
  detail?: string;
  stack?: string;
}

t.test('thrown values with hostile stacks', async (t) => {
  const svc = await startService(t);
  const { httpdid, port } = await svc.deploy(hostile(ATTACK), { timeoutMs: 300 });
  t.equal((await get(port, '/loop-getter')).status, 504, 'a stack getter that spins: the deadline stops it');
  t.equal((await get(port, '/ok')).status, 200, 'served after');
  t.equal((await get(port, '/proxy')).status, 504, 'a proxy that spins on every read: the deadline stops it');
  t.equal((await get(port, '/ok')).status, 200, 'served after');
  const huge = await get(port, '/huge');
  t.equal(huge.status, 500, 'a huge stack and message: an exception');
  t.ok(huge.text.length < 200, 'the client body stays short');
  t.equal((await get(port, '/ok')).status, 200, 'served after');

  const entries = (await svc.api('GET', `/servers/${httpdid}/logs`)).body.lines as Entry[];
  const requests = entries.filter((e) => e.kind === 'request');
  t.same(
    requests.map((e) => [e.path, e.outcome]),
    [
      ['/loop-getter', 'timeout'],
      ['/proxy', 'timeout'],
      ['/huge', 'exception'],
    ],
    'each in the log',
  );
  const big = requests[2];
  t.equal(big?.stack?.length, 4096, 'the stack cut to 4096 characters');
  t.ok((big?.detail?.length ?? Infinity) <= 'handler raised: '.length + 1024 + 3, `the message cut to 1024 characters (${big?.detail?.length})`);
});
