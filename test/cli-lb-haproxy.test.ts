// `isohttpd lb haproxy` as a command: its help, usage errors (exit 2), an unreachable API (exit 6), and the configuration on stdout for the running service's servers.

import t from 'tap';
import { assertFailure, EXIT, runCli } from './helpers/cli.js';
import { freePort, startService } from './helpers/service.js';

t.test('help and usage errors', async (t) => {
  const help = await runCli(['lb', '--help']);
  t.equal(help.code, EXIT.ok);
  t.match(help.stdout, /usage: isohttpd lb haproxy/);
  assertFailure(t, await runCli(['lb']), EXIT.usage, /lb needs a balancer: haproxy/, 'no balancer');
  assertFailure(t, await runCli(['lb', 'nginx']), EXIT.usage, /unknown balancer "nginx"/, 'another balancer');
  assertFailure(t, await runCli(['lb', 'haproxy', '--node', 'a']), EXIT.usage, /is not NAME=ADDR/, 'a node without an address');
  assertFailure(t, await runCli(['lb', 'haproxy', '--node', 'a=example.com']), EXIT.usage, /must be an IP address/, 'a node by host name');
  assertFailure(t, await runCli(['lb', 'haproxy', '--node', 'a=10.0.0.1', '--node', 'a=10.0.0.2']), EXIT.usage, /same name/, 'two nodes of one name');
  assertFailure(t, await runCli(['lb', 'haproxy', '--bind', 'nowhere']), EXIT.usage, /--bind "nowhere" is not an IP address/, 'a bad bind address');
});

t.test('an unreachable API: exit 6', async (t) => {
  const port = await freePort();
  assertFailure(t, await runCli(['lb', 'haproxy', '--url', `http://127.0.0.1:${port}`]), EXIT.unreachable, /127\.0\.0\.1/, 'unreachable');
});

t.test("the service's servers, the nodes given", async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy('export default () => ({ statuscode: 200, message: "hi" });');
  const r = await runCli(['lb', 'haproxy', '--url', svc.url, '--node', 'a=127.0.0.2:7070', '--node', 'b=127.0.0.3']);
  t.equal(r.code, EXIT.ok, r.stderr);
  t.match(r.stdout, new RegExp(`bind 127\\.0\\.0\\.1:${port}\\n`));
  t.match(r.stdout, new RegExp(`server a 127\\.0\\.0\\.2:${port} check port 7070\\n`));
  t.match(r.stdout, new RegExp(`server b 127\\.0\\.0\\.3:${port} check port ${svc.apiPort}\\n`), "the API port defaults to the --url's");
});
