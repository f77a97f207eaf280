// The client CLI's command-line errors: one line on stderr and exit code 2, before any call to the API.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { assertFailure, EXIT, runCli, runMany } from './helpers/cli.js';
import { example, freePort } from './helpers/service.js';

t.test('command-line errors exit 2 without calling the API', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'h.js');
  writeFileSync(file, example('hello.js'));
  writeFileSync(path.join(dir, 'broken.json'), '{"name": "x",');
  writeFileSync(path.join(dir, 'no-entry.json'), JSON.stringify({ name: 'hello' }));
  writeFileSync(path.join(dir, 'bad-port.json'), JSON.stringify({ name: 'hello', entry: 'h.js', port: 70000 }));
  writeFileSync(path.join(dir, 'extra.json'), JSON.stringify({ name: 'hello', entry: 'h.js', colour: 'blue' }));
  // Nothing listens there: a usage error must be found before any connection is tried.
  const env = { ISOHTTPD_URL: `http://127.0.0.1:${await freePort()}` };
  const cases: Array<[string, string[], RegExp]> = [
    ['deploy without FILE', ['deploy', '--port', '8080'], /deploy needs FILE/],
    ['deploy without --port', ['deploy', file], /deploy needs --port P/],
    ['a port that is not a number', ['deploy', file, '--port', 'eighty'], /--port must be a whole number, not "eighty"/],
    ['a negative memory limit', ['deploy', file, '--port', '8080', '--memory-mb', '-5'], /--memory-mb must be a whole number, not "-5"/],
    ['an option without its value', ['deploy', file, '--port'], /--port needs a value/],
    ['an unknown option', ['ls', '--verbose'], /unknown option "--verbose" for ls/],
    ['an option of another command', ['ls', '--port', '1'], /unknown option "--port" for ls/],
    ['an option given twice', ['deploy', file, '--port', '1', '--port', '2'], /--port is given twice/],
    ['a value for a flag', ['ls', '--json=yes'], /--json takes no value/],
    ['an extra argument', ['ls', 'extra'], /unexpected argument "extra" for ls/],
    ['show without ID', ['show'], /show needs ID/],
    [
      'an ID that is neither a number nor a name',
      ['show', 'Abc'],
      /a server is named by its ID \(a positive whole number\) or its NAME \(lower case letters, digits and hyphens, starting with a letter\), not "Abc"/,
    ],
    ['ID zero', ['rm', '0'], /a server is named by its ID .*, not "0"/],
    ['a name that is not one', ['deploy', file, '--name', 'My_App', '--port', '8080'], /--name must be lower case letters, digits and hyphens, starting with a letter \(at most 63\), not "My_App"/],
    ['two files', ['deploy', file, file], /unexpected argument .* for deploy/],
    ['a missing project file', ['deploy', '--project', path.join(dir, 'nope.json')], /cannot read \S+nope\.json: ENOENT/],
    ['a project file that is not JSON', ['deploy', '--project', path.join(dir, 'broken.json')], /broken\.json is not valid JSON/],
    ['a project file without entry', ['deploy', '--project', path.join(dir, 'no-entry.json')], /no-entry\.json: project\.entry is required/],
    ['a project file with a bad port', ['deploy', '--project', path.join(dir, 'bad-port.json')], /bad-port\.json: project\.port must be <= 65535/],
    ['a project file with an unknown field', ['deploy', '--project', path.join(dir, 'extra.json')], /extra\.json: project\.colour is not an allowed field/],
    ['a missing file', ['deploy', path.join(dir, 'missing.js'), '--port', '8080'], /^isohttpd: cannot read \S+missing\.js: ENOENT\n$/],
    ['a directory as the file', ['deploy', dir, '--port', '8080'], /cannot read \S+: EISDIR/],
    ['update with a missing file', ['update', '1', path.join(dir, 'missing.js')], /cannot read \S+missing\.js: ENOENT/],
    ['a URL that is not one', ['ls', '--url', 'not a url'], /the API URL "not a url" is not a URL/],
    ['a URL that is not http', ['ls', '--url', 'ftp://127.0.0.1/'], /must be http: or https:/],
  ];
  const results = await runMany(
    cases.map(([, args]) => args),
    env,
  );
  cases.forEach(([name, , message], i) => assertFailure(t, results[i] ?? { code: null, stdout: '', stderr: '' }, EXIT.usage, message, name));
});

t.test('an unknown command exits 2 and shows the usage', async (t) => {
  const r = await runCli(['frobnicate']);
  t.equal(r.code, EXIT.usage);
  t.match(r.stderr, /^isohttpd: unknown command "frobnicate"\n/);
  t.match(r.stderr, /isohttpd ls\n/, 'the client commands are in the usage');
});

t.test('--help prints the usage and exits 0', async (t) => {
  const r = await runCli(['deploy', '--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /isohttpd deploy \[FILE\] \[--name NAME\] \[--port P\]/);
  t.match(r.stdout, /exit codes: 0 ok, 1 API error, 2 usage, 3 not found, 4 unauthorized or forbidden/);
});
