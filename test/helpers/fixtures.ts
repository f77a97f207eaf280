// Test helper: reads a fixture under test/fixtures/, failing with a message that names the missing file.

import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The fixtures folder, inside the repository (never ../shared). */
export const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures');

/**
 * Reads `test/fixtures/<relPath>` as UTF-8.
 * @throws Error naming the fixture and its absolute path when it is missing or unreadable.
 */
export function readFixture(relPath: string): string {
  const file = path.join(FIXTURES, relPath);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`test fixture ${relPath} is missing or unreadable at ${file}: ${(err as Error).message}`);
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
