// Compile check: a module without a default handler is ISO_ERR_API_INVALID_SOURCE with the message a POST /servers of it gives.

import t from 'tap';
import { checkError, checkSpec, postError, startPool } from './helpers/pool.js';

const CASES: ReadonlyArray<[string, string]> = [
  ['no default export', 'export function handler() {}'],
  ['a default export that is no handler', 'export default { statuscode: 200 }'],
];

t.test('no default handler', async (t) => {
  const { pool } = await startPool(t);
  for (const [name, source] of CASES) {
    const err = await checkError(pool, checkSpec(source));
    t.equal(err?.code, 'ISO_ERR_API_INVALID_SOURCE', name);
    const posted = await postError(t, source);
    t.equal(posted.status, 422, `${name}: a POST is 422`);
    t.equal(err?.message, posted.message, `${name}: the message a POST gives`);
  }
});
