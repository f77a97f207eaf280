// Build step: bundles whatwg-url's URL class with esbuild into the script text that the prelude compiles, lazily, inside an isolate on its first use.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist', 'sandbox', 'whatwg-url.bundle.js');

// The text becomes the body of `new Function('TextEncoder', 'TextDecoder', text)` inside the isolate:
// an IIFE assigning the module's exports to a local, then `return` of the URL class. Nothing of Node
// is used by whatwg-url but TextEncoder/TextDecoder, which the prelude passes in.
const result = await build({
  stdin: { contents: "module.exports = require('whatwg-url').URL;", resolveDir: ROOT, sourcefile: 'url-entry.cjs', loader: 'js' },
  bundle: true,
  format: 'iife',
  globalName: '__isohttpdURL',
  platform: 'neutral',
  mainFields: ['main'],
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
});
const text = result.outputFiles[0]?.text;
if (text === undefined) throw new Error('esbuild produced no output');
mkdirSync(path.dirname(OUT), { recursive: true });
writeFileSync(OUT, `"use strict";\n${text}\nreturn __isohttpdURL;\n`);
process.stdout.write(`url bundle: ${path.relative(ROOT, OUT)} (${Math.round(Buffer.byteLength(text) / 1024)} KiB)\n`);
