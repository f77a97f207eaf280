// The Kubernetes manifests of deploy/kubernetes/ against this checkout's code (no Kubernetes runs here): every file parses; the ConfigMap's config.json passes loadConfig with the StatefulSet's flags and environment (downward-API values replaced by samples); every flag and variable of the manifests' isohttpd commands is one the CLI's help prints (lb haproxy's flags in progress skipped until they exist); the probes, the key file, the selectors, the public ports and the balancer's shared files agree; no Service injects a variable isohttpd reads.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import YAML from 'yaml';
import { type Config, ConfigError, loadConfig } from '../src/api/control/config.js';
import { SecretBox } from '../src/api/control/secret-box.js';
import { TENANT_NAME } from '../src/api/registry/tenant-tokens.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const DIR = path.join(ROOT, 'deploy', 'kubernetes');
const CLI = path.join(ROOT, 'dist', 'cli.js');
/** What the downward API would give a node's pod (status.podIP in the pod CIDR of configmap.yaml). */
const SAMPLE_POD_IP = '10.244.1.23';
/** The lb haproxy flags of the design in progress (docs/scale-out.md): skipped while `lb --help` does not print them. */
const LB_FLAGS_IN_PROGRESS = new Set(['--registry', '--watch', '--reload-pid']);

/** One Kubernetes object of a file (read as JSON: the tests read it as `any`). */
interface Manifest {
  readonly file: string;
  readonly obj: any;
}

/** Every document of every YAML file, parsed as Kubernetes reads YAML (1.1: `0400` is octal). */
function loadManifests(): { manifests: Manifest[]; errors: string[]; files: string[] } {
  const files = readdirSync(DIR).sort();
  const manifests: Manifest[] = [];
  const errors: string[] = [];
  for (const file of files.filter((f) => f.endsWith('.yaml'))) {
    for (const doc of YAML.parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8'), { version: '1.1' })) {
      for (const e of [...doc.errors, ...doc.warnings]) errors.push(`${file}: ${e.message}`);
      const obj: unknown = doc.toJS();
      if (obj !== null) manifests.push({ file, obj });
    }
  }
  return { manifests, errors, files };
}

const { manifests, errors: parseErrors, files } = loadManifests();

function find(kind: string, name: string): any {
  const m = manifests.find((x) => x.obj?.kind === kind && x.obj?.metadata?.name === name);
  if (m === undefined) throw new Error(`no ${kind} ${name} in deploy/kubernetes/`);
  return m.obj;
}

function container(podSpec: any, name: string): any {
  const c = (podSpec.containers as any[]).find((x) => x.name === name);
  if (c === undefined) throw new Error(`no container ${name}`);
  return c;
}

/** Whether every label of `selector` is on `labels` with the same value (a Service's or matchLabels' selection). */
function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/** What `isohttpd ARGS` prints (the built CLI: `npm run build` first). */
function help(...args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

/** Whether a usage text shows `flag` as an option (`--flag` followed by a blank, `=` or `]`). */
function printsFlag(usage: string, flag: string): boolean {
  return new RegExp(`(^|[\\s[])${flag.replace(/[-]/g, '\\-')}(?=[\\s=\\]])`, 'm').test(usage);
}

/** The container's environment as the kubelet would give it: fieldRefs from `pod`, secretKeyRefs from the Secret template. */
function envOf(t: Test, c: any, pod: { name: string; ip: string }): Record<string, string> {
  const secret = find('Secret', 'isohttpd-secrets');
  const env: Record<string, string> = {};
  for (const e of c.env as any[]) {
    if (typeof e.value === 'string') env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = pod.name;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'status.podIP') env[e.name] = pod.ip;
    else if (e.valueFrom?.secretKeyRef?.name === 'isohttpd-secrets') env[e.name] = secret.stringData[e.valueFrom.secretKeyRef.key];
    else t.fail(`${c.name}: env ${e.name} comes from something this test does not stand in for: ${JSON.stringify(e.valueFrom)}`);
  }
  return env;
}

/** `$(VAR)` of a command replaced from `env`, as the kubelet does. */
function expand(command: readonly string[], env: Record<string, string>): string[] {
  return command.map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole));
}

/** The value after `flag` in `args`, or undefined. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

/** Where the node container's volume `name` is mounted. */
function mountOf(c: any, name: string): string {
  const m = (c.volumeMounts as any[]).find((v) => v.name === name);
  if (m === undefined) throw new Error(`${c.name} mounts no volume ${name}`);
  return m.mountPath;
}

const sts = find('StatefulSet', 'isohttpd');
const nodePod = sts.spec.template.spec;
const node = container(nodePod, 'isohttpd');
const configMap = find('ConfigMap', 'isohttpd-config');

/** Loads the nodes' config as pod `podName` would: the ConfigMap's text at the path `--config` names, the container's flags and environment. */
function nodeConfig(t: Test, podName: string): Config {
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-k8s-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config.json');
  writeFileSync(file, configMap.data['config.json']);
  const env = envOf(t, node, { name: podName, ip: SAMPLE_POD_IP });
  const args = expand(node.command, env).slice(3);
  const at = args.indexOf('--config');
  args[at + 1] = file;
  return loadConfig(args, env);
}

t.test('every file parses, each object named and in the namespace', async (t) => {
  t.same(parseErrors, [], 'no YAML error or warning');
  t.same(
    files.filter((f) => f !== 'README.md' && !f.endsWith('.yaml')),
    [],
    'nothing but YAML and the README (so nothing escapes this test)',
  );
  t.ok(manifests.length >= 10, `${manifests.length} objects`);
  for (const { file, obj } of manifests) {
    t.ok(typeof obj.apiVersion === 'string' && typeof obj.kind === 'string' && typeof obj.metadata?.name === 'string', `${file}: ${obj.kind} ${obj.metadata?.name}`);
    if (obj.kind !== 'Namespace') t.equal(obj.metadata.namespace, 'isohttpd', `${file}: ${obj.kind} ${obj.metadata.name} in the namespace`);
  }
  t.ok(find('Namespace', 'isohttpd'), 'the namespace itself');
});

t.test("the ConfigMap's config.json with the StatefulSet's flags and environment passes loadConfig", async (t) => {
  const secret = find('Secret', 'isohttpd-secrets');
  const configVolume = (nodePod.volumes as any[]).find((v) => v.configMap?.name === 'isohttpd-config');
  const item = (configVolume.configMap.items as any[]).find((i) => i.key === 'config.json');
  t.equal(flagValue(node.command, '--config'), `${mountOf(node, configVolume.name)}/${item.path}`, '--config names the file the ConfigMap volume mounts');
  t.ok(JSON.parse(configMap.data['config.json']), 'the config is JSON');

  const podName = `${sts.metadata.name}-0`;
  const cfg = nodeConfig(t, podName);
  t.equal(cfg.nodeName, podName, 'cluster mode: the node name is the pod name (downward API metadata.name)');
  t.equal(cfg.nodeAddress, SAMPLE_POD_IP, "the node's address is the pod IP (status.podIP)");
  t.equal(cfg.apiHost, SAMPLE_POD_IP, 'the API listens on the pod IP, where the probes and other pods reach it');
  t.equal(cfg.registry, secret.stringData['registry-url'], "the registry is the Secret's URL");
  t.match(cfg.registry, /^postgres:\/\/[^@]+@[^/]+\.invalid:\d+\//, "the template's URL is a postgres:// URL to a host that cannot exist");
  t.equal(cfg.dataDir, mountOf(node, 'data'), 'the data dir is the emptyDir');
  t.ok(cfg.proxyProtocol.from.length > 0, 'PROXY protocol from the balancer');
  t.ok(cfg.cluster.leaseMs > 2 * cfg.cluster.heartbeatMs, 'lease above twice the heartbeat');
  t.ok(cfg.allowedHosts.length > 0, 'a public address');
  t.ok(cfg.portMin >= 1024, 'public ports above 1024: HAProxy binds them with no capability');
  const apiPort = (node.ports as any[]).find((p) => p.name === 'api');
  t.equal(cfg.apiPort, apiPort.containerPort, "the API port is the container's port named api");
  t.ok(cfg.apiPort < cfg.portMin || cfg.apiPort > cfg.portMax, 'the API port is not a public port');

  for (let i = 1; i < sts.spec.replicas; i++) {
    const name = `${sts.metadata.name}-${i}`;
    t.equal(nodeConfig(t, name).nodeName, name, `pod ${name} is a valid node name too`);
  }
});

t.test('every flag and variable of the isohttpd commands is one the CLI prints', async (t) => {
  const serveHelp = help('serve', '--help');
  const tenantHelp = help('tenant', '--help');
  const lbHelp = help('lb', '--help');
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: { isohttpd: string }; scripts: { start: string } };

  t.same(node.command.slice(0, 3), ['/app/node_modules/.bin/node', `/app/${pkg.bin.isohttpd}`, 'serve'], "the project's Node 24 running the package's bin, serve");
  t.equal(pkg.scripts.start, `exec node ${pkg.bin.isohttpd} serve`, "as the start script does (it passes Node no flag: the workers' --no-node-snapshot is the service's own)");
  for (const flag of (node.command as string[]).filter((a) => a.startsWith('--'))) t.ok(printsFlag(serveHelp, flag), `serve ${flag} is in isohttpd serve --help`);
  for (const e of node.env as any[]) t.match(serveHelp, `env ${e.name}`, `serve reads ${e.name} (isohttpd serve --help)`);

  const job = find('Job', 'isohttpd-tenant-add');
  const adder = container(job.spec.template.spec, 'tenant-add');
  t.same(adder.command.slice(0, 4), ['/app/node_modules/.bin/node', `/app/${pkg.bin.isohttpd}`, 'tenant', 'add'], 'the Job runs isohttpd tenant add');
  t.match(tenantHelp, /isohttpd tenant add NAME/, 'as isohttpd tenant --help shows it');
  t.match(adder.command[4], TENANT_NAME, 'with a valid tenant name');
  t.equal(adder.command.length, 5, 'and nothing else');
  for (const e of adder.env as any[]) t.match(tenantHelp, `env ${e.name}`, `tenant reads ${e.name} (isohttpd tenant --help)`);

  const lbPod = find('Deployment', 'isohttpd-lb').spec.template.spec;
  const lb = container(lbPod, 'lb');
  t.same(lb.command.slice(0, 4), ['/app/node_modules/.bin/node', `/app/${pkg.bin.isohttpd}`, 'lb', 'haproxy'], 'the sidecar runs isohttpd lb haproxy');
  for (const flag of (lb.command as string[]).filter((a) => a.startsWith('--'))) {
    if (printsFlag(lbHelp, flag)) t.pass(`lb haproxy ${flag} is in isohttpd lb --help`);
    else if (LB_FLAGS_IN_PROGRESS.has(flag))
      t.pass(`lb haproxy ${flag} is in isohttpd lb --help`, { skip: `${flag} is not in isohttpd lb --help of this tree yet (the registry mode in progress, docs/scale-out.md)` });
    else t.fail(`lb haproxy ${flag} is not in isohttpd lb --help`);
  }

  for (const { obj } of manifests.filter((m) => m.obj.spec?.template?.spec?.containers !== undefined)) {
    for (const c of obj.spec.template.spec.containers as any[]) {
      const defined = new Set(((c.env ?? []) as any[]).map((e) => e.name));
      const refs = [...JSON.stringify(c.command ?? []).matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((m) => m[1]);
      for (const r of refs) t.ok(defined.has(r), `${obj.metadata.name}/${c.name}: $(${r}) is defined in its env (the kubelet leaves an undefined one as it is)`);
    }
  }
});

t.test('the probes are GET /healthz on the API port', async (t) => {
  const cfg = nodeConfig(t, `${sts.metadata.name}-0`);
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
    const p = node[probe];
    t.equal(p?.httpGet?.path, '/healthz', `${probe}: GET /healthz`);
    const port = typeof p?.httpGet?.port === 'string' ? (node.ports as any[]).find((x) => x.name === p.httpGet.port)?.containerPort : p?.httpGet?.port;
    t.equal(port, cfg.apiPort, `${probe}: on the API port ${cfg.apiPort}`);
    t.notOk(p?.httpGet?.host, `${probe}: to the pod IP (no host), where the API listens`);
  }
});

t.test('the secrets key: mounted as the file the config names, the template refused', async (t) => {
  const cfg = nodeConfig(t, `${sts.metadata.name}-0`);
  const secret = find('Secret', 'isohttpd-secrets');
  const keyVolume = (nodePod.volumes as any[]).find((v) => v.secret?.secretName === 'isohttpd-secrets');
  const item = (keyVolume.secret.items as any[]).find((i) => i.key === 'secrets.key');
  t.equal(cfg.secretsKeyFile, `${mountOf(node, keyVolume.name)}/${item.path}`, 'secretsKeyFile is the file the Secret volume mounts');
  t.equal(keyVolume.secret.defaultMode, 0o400, 'readable by its owner only');
  t.notOk(JSON.stringify(node.env).includes('secrets.key'), 'the key is not in the environment');

  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-k8s-key-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'secrets.key');
  writeFileSync(file, secret.stringData['secrets.key']);
  t.throws(() => SecretBox.open(dir, file), /must hold 64 hexadecimal digits/, "the template's placeholder key is refused: a node started with the template does not start");
  writeFileSync(file, `${'0123456789abcdef'.repeat(4)}\n`);
  t.ok(SecretBox.open(dir, file), 'a key of 64 hexadecimal digits (openssl rand -hex 32) opens');
});

t.test('the Services, the NetworkPolicy and the public ports agree with the pods and the config', async (t) => {
  const cfg = nodeConfig(t, `${sts.metadata.name}-0`);
  const nodeLabels = sts.spec.template.metadata.labels;
  const lbDeployment = find('Deployment', 'isohttpd-lb');
  const lbLabels = lbDeployment.spec.template.metadata.labels;
  t.ok(selects(sts.spec.selector.matchLabels, nodeLabels), 'the StatefulSet selects its pods');
  t.ok(selects(lbDeployment.spec.selector.matchLabels, lbLabels), 'the Deployment selects its pods');
  t.notOk(selects(lbDeployment.spec.selector.matchLabels, nodeLabels), 'and not the nodes');

  const headless = find('Service', sts.spec.serviceName);
  t.equal(headless.spec.clusterIP, 'None', "the StatefulSet's serviceName is headless");
  t.ok(selects(headless.spec.selector, nodeLabels), 'and selects the nodes');
  const control = find('Service', 'isohttpd-control');
  t.ok(selects(control.spec.selector, nodeLabels), 'the API Service selects the nodes');
  t.same(
    (control.spec.ports as any[]).map((p) => [p.port, p.targetPort]),
    [[cfg.apiPort, 'api']],
    'on the API port',
  );
  t.ok(selects(find('PodDisruptionBudget', 'isohttpd').spec.selector.matchLabels, nodeLabels), 'the PodDisruptionBudget covers the nodes');

  const pub = find('Service', 'isohttpd-public');
  t.equal(pub.spec.type, 'LoadBalancer');
  t.ok(selects(pub.spec.selector, lbLabels), 'the public Service sends to the balancer');
  t.notOk(selects(pub.spec.selector, nodeLabels), 'not to the nodes');
  t.ok(cfg.allowedHosts.includes(pub.spec.loadBalancerIP), `its address ${pub.spec.loadBalancerIP} is the config's allowedHosts`);
  t.equal(pub.spec.externalTrafficPolicy, 'Local', "the client's address reaches HAProxy");
  const range = Array.from({ length: cfg.portMax - cfg.portMin + 1 }, (_, i) => cfg.portMin + i);
  t.same(
    (pub.spec.ports as any[]).map((p) => p.port),
    range,
    `it lists exactly portMin..portMax (${cfg.portMin}-${cfg.portMax})`,
  );
  t.ok(
    (pub.spec.ports as any[]).every((p) => p.targetPort === p.port && p.protocol === 'TCP'),
    'each to the same port of the balancer (TCP)',
  );

  const policy = find('NetworkPolicy', 'isohttpd-nodes');
  t.ok(selects(policy.spec.podSelector.matchLabels, nodeLabels), 'the NetworkPolicy is on the nodes');
  t.same(policy.spec.policyTypes, ['Ingress']);
  const tenantRules = (policy.spec.ingress as any[]).filter((r) => (r.ports as any[]).some((p) => (p.endPort ?? p.port) >= cfg.portMin && p.port <= cfg.portMax));
  t.equal(tenantRules.length, 1, 'one rule opens tenant ports');
  const rule = tenantRules[0];
  t.same(
    (rule.ports as any[]).map((p) => [p.port, p.endPort]),
    [[cfg.portMin, cfg.portMax]],
    'the whole public range',
  );
  t.equal(rule.from?.length, 1, 'from one peer');
  t.ok(selects(rule.from[0].podSelector.matchLabels, lbLabels), "the balancer's pods");
  t.notOk(selects(rule.from[0].podSelector.matchLabels, nodeLabels), 'not the nodes');
  t.notOk(rule.from[0].namespaceSelector, 'in this namespace only');
  const apiRule = (policy.spec.ingress as any[]).find((r) => r !== rule);
  t.same(
    (apiRule.ports as any[]).map((p) => p.port),
    [cfg.apiPort],
    'the other rule opens the API port alone',
  );
});

t.test("the balancer's pod: HAProxy's files are the sidecar's, one user, one process namespace", async (t) => {
  const spec = find('Deployment', 'isohttpd-lb').spec.template.spec;
  const haproxy = container(spec, 'haproxy');
  const lb = container(spec, 'lb');
  t.equal(spec.shareProcessNamespace, true, 'the sidecar can see the HAProxy master to signal it');
  t.ok(Number.isInteger(spec.securityContext?.runAsUser) && spec.securityContext.runAsUser > 0, 'the pod runs as one non-root user');
  for (const c of [haproxy, lb]) t.notOk(c.securityContext?.runAsUser, `${c.name} keeps the pod's user (a signal needs the same user)`);
  const shared = (spec.volumes as any[]).find((v) => v.name === 'shared');
  t.same(shared?.emptyDir, {}, 'an emptyDir between them');
  const at = mountOf(haproxy, 'shared');
  t.equal(mountOf(lb, 'shared'), at, 'mounted at the same path');

  const script = (haproxy.command as string[]).join(' ');
  const cfgFile = /\s-f\s+(\S+)/.exec(script)?.[1];
  const pidFile = /\s-p\s+(\S+)/.exec(script)?.[1];
  t.match(script, /\bexec haproxy -W\b/, 'HAProxy runs as a master (-W), replacing the shell');
  t.equal(flagValue(lb.command, '--out'), cfgFile, "the sidecar writes the file HAProxy's -f reads");
  t.equal(flagValue(lb.command, '--reload-pid'), pidFile, "and signals the pid HAProxy's -p writes");
  t.ok(cfgFile?.startsWith(`${at}/`) && pidFile?.startsWith(`${at}/`), 'both in the shared volume');

  const secret = find('Secret', 'isohttpd-secrets');
  const url = (lb.env as any[]).find((e) => e.name === 'ISOHTTPD_REGISTRY_URL')?.valueFrom?.secretKeyRef;
  t.same(url, { name: 'isohttpd-secrets', key: 'lb-registry-url' }, "the sidecar reads the registry as the balancer's role, not the nodes'");
  const nodesUrl = new URL(secret.stringData['registry-url']);
  const lbUrl = new URL(secret.stringData['lb-registry-url']);
  t.same([lbUrl.protocol, lbUrl.host, lbUrl.pathname], [nodesUrl.protocol, nodesUrl.host, nodesUrl.pathname], 'the same database');
  t.not(lbUrl.username, nodesUrl.username, 'as another role');
});

t.test('no Service injects a variable isohttpd reads; every isohttpd pod turns the links off', async (t) => {
  const read = new Set<string>();
  for (const text of [help('serve', '--help'), help('tenant', '--help'), help('lb', '--help')]) for (const m of text.matchAll(/\bISOHTTPD_[A-Z0-9_]+\b/g)) read.add(m[0]);
  const src = path.join(ROOT, 'src');
  for (const f of readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((x) => x.endsWith('.ts')))
    for (const m of readFileSync(path.join(src, f), 'utf8').matchAll(/\bISOHTTPD_[A-Z0-9_]+\b/g)) read.add(m[0]);
  t.ok(read.has('ISOHTTPD_API_PORT') && read.has('ISOHTTPD_NODE_NAME'), `${read.size} variables isohttpd reads`);

  for (const { obj } of manifests.filter((m) => m.obj.kind === 'Service' && m.obj.spec?.clusterIP !== 'None')) {
    // What the kubelet injects for a Service with a cluster IP (docker-links style and *_SERVICE_*).
    const base = String(obj.metadata.name).toUpperCase().replace(/-/g, '_');
    const injected = [`${base}_SERVICE_HOST`, `${base}_SERVICE_PORT`, `${base}_PORT`];
    for (const p of obj.spec.ports as any[]) {
      const proto = String(p.protocol ?? 'TCP');
      const prefix = `${base}_PORT_${p.port}_${proto}`;
      injected.push(prefix, `${prefix}_PROTO`, `${prefix}_PORT`, `${prefix}_ADDR`);
      if (typeof p.name === 'string') injected.push(`${base}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`);
    }
    t.same(
      injected.filter((n) => read.has(n)),
      [],
      `Service ${obj.metadata.name} would inject none of them`,
    );
  }
  t.throws(
    () => loadConfig([], { ISOHTTPD_API_PORT: 'tcp://10.96.0.10:7070' }),
    new ConfigError('ISOHTTPD_API_PORT must be a whole number, got "tcp://10.96.0.10:7070"'),
    'what a Service named isohttpd-api would do to a node with service links on',
  );
  for (const { obj } of manifests.filter((m) => m.obj.spec?.template?.spec?.containers !== undefined)) {
    const spec = obj.spec.template.spec;
    t.equal(spec.enableServiceLinks, false, `${obj.kind} ${obj.metadata.name}: enableServiceLinks false`);
    t.equal(spec.automountServiceAccountToken, false, `${obj.kind} ${obj.metadata.name}: no service account token for code beside tenants'`);
  }
});
