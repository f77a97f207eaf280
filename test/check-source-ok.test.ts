// Compile check: a good source passes (JavaScript or stripped TypeScript, in one isolate or several), binds and hosts nothing; the worker serves a deploy next.

import t from 'tap';
import { runnableSource } from '../src/api/control/typescript.js';
import { checkSpec, startPool } from './helpers/pool.js';

const GOOD = `const greeting = 'hello';
export default (request, env) => ({ version: '1.1', statuscode: 200, headers: {}, message: greeting + ' ' + (env.WHO ?? 'nobody') });`;

t.test('a good source passes', async (t) => {
  const { pool, deploy } = await startPool(t);
  await pool.check(checkSpec(GOOD));
  t.pass('default limits');
  await pool.check({ ...checkSpec(GOOD, { isolates: 2, memoryMb: 32 }), env: JSON.stringify({ WHO: 'me' }), egress: { allow: ['example.com'] } });
  t.pass('with its environment, egress and several isolates');
  const ts = "const who: string = 'ts';\nexport default (): object => ({ version: '1.1', statuscode: 200, headers: {}, message: who });";
  await pool.check(checkSpec(runnableSource(ts, 'typescript')));
  t.pass('TypeScript, stripped as the lifecycle strips it before a deploy');
  t.same(pool.stats(0).outcomes.ok, 0, 'nothing was hosted');
  const port = await deploy(GOOD, 1);
  const r = await fetch(`http://127.0.0.1:${port}/`);
  t.equal(r.status, 200);
  t.equal(await r.text(), 'hello nobody', 'the worker serves a deploy after the checks');
});
