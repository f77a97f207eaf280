// Hostile: a module that allocates past its memory limit at evaluation fails its compile check cleanly (the error a POST gives), and the worker serves a deploy afterwards.

import t from 'tap';
import { checkError, checkSpec, postError, startPool } from '../helpers/pool.js';

const GROW = 'const keep = [];\nfor (;;) keep.push(new Array(100000).fill(Math.random()));\nexport default () => 1;';
const OK = `export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'ok' });`;

t.test('memory growth at module level', async (t) => {
  const { pool, deploy, lines } = await startPool(t);
  const limits = { memoryMb: 16, timeoutMs: 10_000 };
  const err = await checkError(pool, checkSpec(GROW, limits));
  const posted = await postError(t, GROW, limits);
  t.equal(err?.code, 'ISO_ERR_API_INVALID_SOURCE', 'refused as a source');
  t.equal(err?.code, posted.code, 'the code a POST gives');
  t.equal(err?.message, posted.message, 'the message a POST gives');
  t.comment(err?.message ?? '');
  const port = await deploy(OK, 1);
  const r = await fetch(`http://127.0.0.1:${port}/`);
  t.equal(r.status, 200, 'the pool serves a normal deploy afterwards');
  t.same(
    lines.filter((l) => l.level === 'error').map((l) => l.msg),
    [],
    'no worker died or was retired',
  );
});
