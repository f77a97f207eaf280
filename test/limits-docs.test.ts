// The limits tables in README.md and docs/http-codec.md are what scripts/limits-table.mjs generates from schemas/limits.json: a table edited by hand, or a schema changed without regenerating, fails here.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';

const ROOT = path.resolve(import.meta.dirname, '..');
const SCRIPT = path.join(ROOT, 'scripts', 'limits-table.mjs');

function check(...files: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT, '--check', ...files], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

t.test('the docs tables are the ones the schema generates', async (t) => {
  for (const doc of ['README.md', 'docs/http-codec.md']) {
    const text = readFileSync(path.join(ROOT, doc), 'utf8');
    t.match(text, /<!-- limits-table: [^>]+ -->\n\| limit \|/, `${doc} has a generated limits table`);
    const r = check(path.join(ROOT, doc));
    t.equal(r.status, 0, `${doc} is up to date (else run node scripts/limits-table.mjs): ${r.stderr}`);
  }
});

t.test('a table that differs from the schema is reported', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'limits-docs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const copy = path.join(dir, 'README.md');
  const text = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const edited = text.replace(/\| `memoryMb` \| 64 \|/, '| `memoryMb` | 65 |');
  t.not(edited, text, 'the copy was edited');
  writeFileSync(copy, edited);
  const r = check(copy);
  t.equal(r.status, 1);
  t.match(r.stderr, /differs from schemas\/limits\.json/);
});
