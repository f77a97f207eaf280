// Cluster mode's options: nodeName and nodeAddress from flags, environment and config file; refused without a PostgreSQL registry, with an address that is not an IP, or a lease not above twice the heartbeat; the timings' defaults, merged and frozen.

import t from 'tap';
import { ConfigError, loadConfig } from '../src/api/control/config.js';
import { configFile } from './helpers/service.js';

const PG = 'postgres://isohttpd@127.0.0.1:5432/isohttpd';

t.test('one node by default, with the timings defaults', async (t) => {
  const cfg = loadConfig([], {});
  t.equal(cfg.nodeName, '');
  t.equal(cfg.nodeAddress, '');
  t.same(cfg.cluster, { heartbeatMs: 1000, leaseMs: 5000, reconcileMs: 10000, readyWaitMs: 10000 });
  t.ok(Object.isFrozen(cfg.cluster), 'frozen');
});

t.test('from flags, environment and file (flags win)', async (t) => {
  const flags = loadConfig(['--registry', PG, '--node-name', 'a', '--node-address', '10.0.0.2'], {});
  t.same([flags.nodeName, flags.nodeAddress], ['a', '10.0.0.2']);
  const env = loadConfig([], { ISOHTTPD_REGISTRY_URL: PG, ISOHTTPD_NODE_NAME: 'b', ISOHTTPD_NODE_ADDRESS: 'fd00::3' });
  t.same([env.nodeName, env.nodeAddress], ['b', 'fd00::3']);
  const file = configFile(t, { registry: PG, nodeName: 'c', nodeAddress: '10.0.0.4', cluster: { leaseMs: 9000 } });
  const fromFile = loadConfig(['--config', file, '--node-name', 'd'], {});
  t.same([fromFile.nodeName, fromFile.nodeAddress], ['d', '10.0.0.4'], 'the flag wins over the file');
  t.same(fromFile.cluster, { heartbeatMs: 1000, leaseMs: 9000, reconcileMs: 10000, readyWaitMs: 10000 }, 'merged over the defaults');
});

t.test('refused: no PostgreSQL registry, an address that is not an IP, a name alone, a short lease, a bad name', async (t) => {
  t.throws(
    () => loadConfig(['--node-name', 'a', '--node-address', '10.0.0.2'], {}),
    new ConfigError('config.nodeName (cluster mode) needs a PostgreSQL registry shared by the nodes: --registry postgres://…'),
  );
  t.throws(
    () => loadConfig(['--registry', PG, '--node-name', 'a', '--node-address', 'node-a.internal'], {}),
    new ConfigError(`config.nodeAddress "node-a.internal" must be this node's own IP address (--node-address) in cluster mode`),
  );
  t.throws(() => loadConfig(['--registry', PG, '--node-name', 'a'], {}), /nodeAddress "" must be this node's own IP address/);
  t.throws(() => loadConfig(['--registry', PG, '--node-address', '10.0.0.2'], {}), /needs config.nodeName/);
  t.throws(
    () => loadConfig(['--registry', PG, '--node-name', 'a', '--node-address', '10.0.0.2', '--config', configFile(t, { cluster: { heartbeatMs: 1000, leaseMs: 2000 } })], {}),
    /leaseMs \(2000\) must be more than twice config.cluster.heartbeatMs \(1000\)/,
  );
  t.throws(() => loadConfig(['--registry', PG, '--node-name', 'no spaces', '--node-address', '10.0.0.2'], {}), ConfigError);
  t.throws(() => loadConfig(['--config', configFile(t, { cluster: { heartbeat: 5 } })], {}), ConfigError, 'an unknown timing');
});
