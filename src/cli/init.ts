// `isohttpd init [DIR] [--typescript]`: a starter project (handler.js or handler.ts with isohttpd.d.ts, isohttpd.json, handler.test.mjs) that deploys as it is and passes its own test under `node --test`.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SERVER_NAME, UsageError } from './args.js';
import { PROJECT_FILE } from './project.js';

/** What init wrote. */
export interface InitResult {
  readonly dir: string;
  readonly name: string;
  readonly port: number;
  /** The files written, as paths relative to the current directory. */
  readonly files: string[];
}

/** The port a new project listens on unless told otherwise. */
export const INIT_PORT = 8080;

/** A server name from a directory's name: lower case, other characters as hyphens, starting with a letter; `hello` when nothing is left. */
export function nameFromDir(dir: string): string {
  const base = path
    .basename(path.resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return SERVER_NAME.test(base) ? base : 'hello';
}

/** The starter files (examples/starter/, shipped in the package): `__NAME__` is the server's name. */
const STARTER = new URL('../../examples/starter/', import.meta.url);

/** The handler types a TypeScript project imports (types/isohttpd.d.ts, shipped in the package). */
const TYPES = new URL('../../types/isohttpd.d.ts', import.meta.url);

async function starter(file: string, name: string, entry: string): Promise<string> {
  return (await readFile(new URL(file, STARTER), 'utf8')).replaceAll('__NAME__', name).replaceAll('__ENTRY__', entry);
}

/**
 * Writes the starter project into `dir` (made if missing).
 * @throws UsageError when the name is invalid, or a file it would write exists (nothing is written then).
 */
export async function initProject(dir: string, opts: { name?: string; port?: number; typescript?: boolean } = {}): Promise<InitResult> {
  const name = opts.name ?? nameFromDir(dir);
  if (!SERVER_NAME.test(name)) throw new UsageError(`--name must be lower case letters, digits and hyphens, starting with a letter (at most 63), not ${JSON.stringify(name)}`);
  const port = opts.port ?? INIT_PORT;
  if (port < 1 || port > 65535) throw new UsageError(`--port must be 1–65535, not ${port}`);
  const entry = opts.typescript === true ? 'handler.ts' : 'handler.js';
  const project = { name, entry, port };
  const files: Array<[string, string]> = [
    [entry, await starter(entry, name, entry)],
    [PROJECT_FILE, `${JSON.stringify(project, null, 2)}\n`],
    ['handler.test.mjs', await starter('handler.test.mjs', name, entry)],
  ];
  // The types, beside the handler: `import type … from './isohttpd.js'` finds them, and is erased before it runs.
  if (opts.typescript === true) files.push(['isohttpd.d.ts', await readFile(TYPES, 'utf8')]);
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  try {
    for (const [file, text] of files) {
      const at = path.join(dir, file);
      // `wx`: never over a file that exists.
      await writeFile(at, text, { flag: 'wx' });
      written.push(at);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') {
      // Nothing half-made: what this run wrote goes again.
      await Promise.all(written.map((f) => rm(f, { force: true })));
      throw new UsageError(`${e.path ?? 'a file'} exists; init writes only new files (choose another DIR)`, false);
    }
    throw new UsageError(`cannot write in ${dir}: ${e.code ?? e.message}`, false);
  }
  return { dir, name, port, files: written };
}
