// The `proxyProtocol` option: off by default, CIDRs validated at start-up, frozen, merged over the default from a config file, and carried to the workers on their command line.

import t from 'tap';
import { ConfigError, loadConfig } from '../src/api/control/config.js';
import { configFile } from './helpers/service.js';
import { workerArgv, workerOptions } from '../src/host/worker/protocol.js';

t.test('off by default', async (t) => {
  t.same(loadConfig([], {}).proxyProtocol, { from: [] });
});

t.test('the balancers from the config file, frozen', async (t) => {
  const cfg = loadConfig(['--config', configFile(t, { proxyProtocol: { from: ['127.0.0.10/32', 'fd00::1'] } })], {});
  t.same(cfg.proxyProtocol.from, ['127.0.0.10/32', 'fd00::1']);
  t.ok(Object.isFrozen(cfg.proxyProtocol) && Object.isFrozen(cfg.proxyProtocol.from), 'frozen');
});

t.test('a value that is not a CIDR, or an unknown key, is refused at start-up', async (t) => {
  t.throws(
    () => loadConfig(['--config', configFile(t, { proxyProtocol: { from: ['balancer'] } })], {}),
    new ConfigError('config.proxyProtocol.from["0"] "balancer" is not a CIDR range (a.b.c.d/n or an IPv6 address/n)'),
  );
  t.throws(() => loadConfig(['--config', configFile(t, { proxyProtocol: { from: ['10.0.0.0/33'] } })], {}), ConfigError);
  t.throws(() => loadConfig(['--config', configFile(t, { proxyProtocol: { fromm: [] } })], {}), ConfigError);
});

t.test('carried to the workers on their command line', async (t) => {
  const argv = workerArgv({ rssLimitMb: 0, proxyProtocolFrom: ['127.0.0.10/32', '10.0.5.0/28'] });
  t.same(workerOptions(argv).proxyProtocolFrom, ['127.0.0.10/32', '10.0.5.0/28']);
  t.equal(workerOptions(workerArgv({ rssLimitMb: 0 })).proxyProtocolFrom, undefined, 'none: not on the command line');
});
