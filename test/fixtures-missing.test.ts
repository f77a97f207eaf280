// A test whose fixture is missing fails with a message naming the fixture and where it was looked for (the llhttp suite lives in test/fixtures, never ../shared).

import path from 'node:path';
import t from 'tap';
import { FIXTURES, readFixture, readJsonFixture } from './helpers/fixtures.js';

t.test('missing fixture', async (t) => {
  t.throws(() => readFixture('llhttp/no-such-cases.json'), {
    message: new RegExp(`^test fixture llhttp/no-such-cases\\.json is missing or unreadable at ${path.join(FIXTURES, 'llhttp', 'no-such-cases.json').replaceAll('/', '\\/')}: ENOENT`),
  });
  t.notOk(FIXTURES.includes(`${path.sep}shared${path.sep}`), 'fixtures are inside the repository');
});

t.test('the llhttp suite is in the repository, with its licence and README', async (t) => {
  const cases = readJsonFixture('llhttp/request-cases.json') as unknown[];
  t.equal(cases.length, 166, 'all 166 cases');
  t.match(readFixture('llhttp/LICENSE'), /MIT License[\s\S]*Fedor Indutny/, "llhttp's MIT licence");
  t.match(readFixture('llhttp/README.md'), /version 9\.4\.2/, 'the README names the llhttp version');
});
