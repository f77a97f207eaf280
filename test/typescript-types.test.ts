// types/isohttpd.d.ts: the TypeScript examples type-check against it (tsc, strict), and a handler that returns a wrong response dict does not.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';

const ROOT = path.resolve(import.meta.dirname, '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function tsc(project: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSC, '-p', project], { encoding: 'utf8' }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : 1, out: stdout + stderr }));
  });
}

t.test('the examples type-check against the shipped types', async (t) => {
  const r = await tsc(path.join(ROOT, 'examples', 'tsconfig.json'));
  t.equal(r.code, 0, r.out);
});

t.test('a wrong response dict is a type error', async (t) => {
  const dir = mkdtempSync(path.join(ROOT, '.types-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    path.join(dir, 'bad.ts'),
    "import type { Handler } from '../types/isohttpd.js';\nconst handler: Handler = (r) => ({ version: '2.0', statuscode: '200', headers: {}, message: r.nope });\nexport default handler;\n",
  );
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: [] }, include: ['bad.ts'] }),
  );
  const r = await tsc(path.join(dir, 'tsconfig.json'));
  t.equal(r.code, 1, 'tsc refuses it');
  t.match(r.out, /bad\.ts\(2,/, 'at the handler');
  t.match(r.out, /'2\.0'|nope|statuscode/);
});
