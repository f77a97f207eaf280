// Test helper: reads fixtures under test/ (the llhttp data in test/fixtures/, the codec cases in test/http1/), failing with a message that names the missing file.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The test folder, inside the repository. */
export const TEST_DIR = path.resolve(import.meta.dirname, '..');

/** The fixtures folder, inside the repository (never ../shared). */
export const FIXTURES = path.join(TEST_DIR, 'fixtures');

/** Reads `<root>/<relPath>` as UTF-8, or throws an Error naming the fixture and its absolute path. */
function readUnder(root: string, relPath: string): string {
  const file = path.join(root, relPath);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`test fixture ${relPath} is missing or unreadable at ${file}: ${(err as Error).message}`);
  }
}

/**
 * Reads `test/fixtures/<relPath>` as UTF-8.
 * @throws Error naming the fixture and its absolute path when it is missing or unreadable.
 */
export function readFixture(relPath: string): string {
  return readUnder(FIXTURES, relPath);
}

/**
 * Reads `test/<relPath>` as UTF-8 (e.g. `http1/chunked.md`).
 * @throws Error naming the fixture and its absolute path when it is missing or unreadable.
 */
export function readTestFile(relPath: string): string {
  return readUnder(TEST_DIR, relPath);
}

/**
 * The names of the files in `test/<dir>` whose names end with `suffix`, sorted.
 * @throws Error naming the folder when it is missing or unreadable.
 */
export function listTestFiles(dir: string, suffix: string): string[] {
  const abs = path.join(TEST_DIR, dir);
  try {
    return readdirSync(abs)
      .filter((f) => f.endsWith(suffix))
      .sort();
  } catch (err) {
    throw new Error(`test fixture folder ${dir} is missing or unreadable at ${abs}: ${(err as Error).message}`);
  }
}

/** Reads and parses a JSON fixture; a syntax error names the fixture too. */
export function readJsonFixture(relPath: string): unknown {
  const text = readFixture(relPath);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`test fixture ${relPath} is not valid JSON: ${(err as Error).message}`);
  }
}
