// Compile check: a source that does not compile is ISO_ERR_API_INVALID_SOURCE with the message a POST /servers of it gives.

import t from 'tap';
import { checkError, checkSpec, postError, startPool } from './helpers/pool.js';

const SOURCE = 'export default function h() {\n  return 1 +;\n}\n';

t.test('a syntax error', async (t) => {
  const { pool } = await startPool(t);
  const err = await checkError(pool, checkSpec(SOURCE));
  t.equal(err?.code, 'ISO_ERR_API_INVALID_SOURCE');
  t.match(err?.message, /^SyntaxError: .* at line 2, column \d+$/);
  const posted = await postError(t, SOURCE);
  t.equal(posted.status, 422);
  t.equal(err?.message, posted.message, 'the message a POST gives');
});
