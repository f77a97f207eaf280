// A token that cannot be sent in a header (a stray character pasted with it) is a usage error naming where it came from and where the character is, before any call; a refused token is a 401 with a hint to check ISOHTTPD_TOKEN.

import t from 'tap';
import { EXIT, runCli } from './helpers/cli.js';
import { addTenant, freePort, startService, tempDataDir } from './helpers/service.js';

t.test('a stray character in the token', async (t) => {
  const env = { ISOHTTPD_URL: `http://127.0.0.1:${await freePort()}` };
  const fromEnv = await runCli(['ls'], { ...env, ISOHTTPD_TOKEN: 'iso_abc def' });
  t.equal(fromEnv.code, EXIT.usage, 'found before the API is called (nothing listens there)');
  t.match(fromEnv.stderr, /^isohttpd: ISOHTTPD_TOKEN holds a character that cannot be sent in an HTTP header \(" " at position 8 of 11\): a stray space, quote or line break pasted with it\?\n$/);
  const fromFlag = await runCli(['ls', '--token', 'iso_x\u00e9'], env);
  t.equal(fromFlag.code, EXIT.usage);
  t.match(fromFlag.stderr, /--token holds a character that cannot be sent in an HTTP header \("é" at position 6 of 6\)/);
  const newline = await runCli(['ls'], { ...env, ISOHTTPD_TOKEN: 'iso_abc\n' });
  t.match(newline.stderr, /\("\\n" at position 8 of 8\)/);
});

t.test('a refused token: 401 with the hint', async (t) => {
  const dataDir = tempDataDir();
  addTenant(dataDir, 'acme');
  const svc = await startService(t, [], {}, { dataDir });
  const r = await runCli(['ls'], { ISOHTTPD_URL: svc.url, ISOHTTPD_TOKEN: 'iso_wrong' });
  t.equal(r.code, EXIT.forbidden);
  t.match(r.stderr, /^isohttpd: 401 ISO_ERR_API_UNAUTHORIZED: .*; check ISOHTTPD_TOKEN \(or --token\): the token was refused or is missing\n$/);
});
