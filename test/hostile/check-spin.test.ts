// Hostile: a module that spins at evaluation fails its compile check at its time limit (ISO_ERR_API_INVALID_SOURCE, the message a POST gives), and the worker serves a deploy afterwards.

import t from 'tap';
import { checkError, checkSpec, postError, startPool } from '../helpers/pool.js';

const SPIN = 'for (;;) {}\nexport default () => 1;';
const OK = `export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'ok' });`;

t.test('a spin at module level', async (t) => {
  const { pool, deploy } = await startPool(t);
  const err = await checkError(pool, checkSpec(SPIN, { timeoutMs: 200 }));
  t.equal(err?.code, 'ISO_ERR_API_INVALID_SOURCE', 'stopped, with an error');
  t.match(err?.message, /module evaluation exceeded the time limit \(200 ms\)/);
  const posted = await postError(t, SPIN, { timeoutMs: 200 });
  t.equal(err?.message, posted.message, 'the message a POST gives');
  const port = await deploy(OK, 1);
  const r = await fetch(`http://127.0.0.1:${port}/`);
  t.equal(r.status, 200, 'the pool serves a normal deploy afterwards');
  t.equal(await r.text(), 'ok');
});
