// Build step: copies the guest modules (src/sandbox/guest/**/*.js) byte for byte into dist/sandbox/guest/, where src/sandbox/guest-source.ts reads them as text for the isolates.

import { cpSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FROM = path.join(ROOT, 'src', 'sandbox', 'guest');
const TO = path.join(ROOT, 'dist', 'sandbox', 'guest');

// Only the .js files: the folder's tsconfig.json and .d.ts types are for the type-check alone. A file
// removed from src/ does not linger in dist/.
rmSync(TO, { recursive: true, force: true });
const files = readdirSync(FROM, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
for (const f of files) cpSync(path.join(FROM, f), path.join(TO, f));
process.stdout.write(`guest modules: ${files.length} copied to ${path.relative(ROOT, TO)}\n`);
