// A stored server that can no longer run (a TypeScript source that no longer strips, as a newer Node.js may refuse what an older one took) is restored `failed` with the reason; the service starts and restores the others.

import { rmSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import t from 'tap';
import { startService, tempDataDir } from './helpers/service.js';

const TS = "const greeting: string = 'typed';\nexport default function handler(): unknown { return { version: '1.1', statuscode: 200, headers: {}, message: greeting }; }\n";
const JS = "export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'plain' });";

t.test('an unusable stored row fails its server, not the start-up', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startService(t, [], {}, { dataDir });
  const typed = await first.deploy(TS, undefined, undefined, { name: 'typed', language: 'typescript' });
  const plain = await first.deploy(JS, undefined, undefined, { name: 'plain' });
  t.equal(await (await fetch(`http://127.0.0.1:${typed.port}/`)).text(), 'typed');
  await first.stop();

  // What strip mode refuses (an enum needs code generated for it), as if stored by another Node.js.
  const db = new DatabaseSync(path.join(dataDir, 'isohttpd.sqlite'));
  db.prepare('UPDATE servers SET source = ? WHERE httpdid = ?').run('enum Color { Red }\nexport default () => Color.Red;\n', typed.httpdid);
  db.close();

  const second = await startService(t, [], {}, { dataDir });
  const failed = (await second.api('GET', '/servers/typed')).body;
  t.equal(failed.state, 'failed', 'that server is failed');
  t.match(failed.reason, /could not be restored at start-up: .*enum/i, `with the reason: ${failed.reason}`);
  t.equal((await second.api('GET', '/servers/plain')).body.state, 'running', 'the other one is restored');
  t.equal(await (await fetch(`http://127.0.0.1:${plain.port}/`)).text(), 'plain');
  t.match(second.output(), /server failed: not restored/, 'logged');
  // A restart deploys the stored source again: refused with the same reason, the server stays failed.
  const restart = await second.api('POST', '/servers/typed/restart');
  t.equal(restart.status, 422, `restart: ${JSON.stringify(restart.body)}`);
  t.match(restart.body.error.message, /enum/i, 'the reason, not a JavaScript syntax error');
  t.equal((await second.api('GET', '/servers/typed')).body.state, 'failed');
});
