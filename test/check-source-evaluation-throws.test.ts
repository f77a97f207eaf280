// Compile check: a module that throws at evaluation is ISO_ERR_API_INVALID_SOURCE with the message a POST /servers of it gives.

import t from 'tap';
import { checkError, checkSpec, postError, startPool } from './helpers/pool.js';

const SOURCE = "throw new Error('nope');\nexport default () => 1;";

t.test('a throw at module level', async (t) => {
  const { pool } = await startPool(t);
  const err = await checkError(pool, checkSpec(SOURCE));
  t.equal(err?.code, 'ISO_ERR_API_INVALID_SOURCE');
  t.match(err?.message, /module evaluation failed: Error: nope/);
  const posted = await postError(t, SOURCE);
  t.equal(posted.status, 422);
  t.equal(err?.message, posted.message, 'the message a POST gives');
});
