// `isohttpd init [DIR]`: a starter project (handler.js, isohttpd.json, handler.test.mjs) that deploys as it is and passes its own test under `node --test`.

import { mkdir, rm, writeFile } from 'node:fs/promises';
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

function handlerSource(name: string): string {
  return `// The ${name} handler for isohttpd. \`request\` is the request dict, the value returned the response dict (see isohttpd's README, "Handlers").
export default function handler(request) {
  if (request.path === '/') {
    return { version: '1.1', statuscode: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, message: 'Hello from ${name}!\\n' };
  }
  if (request.path === '/echo' && request.verb === 'POST') {
    // The body, as bytes; datastream.text() reads it as UTF-8.
    return { version: '1.1', statuscode: 200, headers: { 'Content-Type': 'application/octet-stream' }, message: request.datastream.read() };
  }
  return { version: '1.1', statuscode: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, message: \`no route \${request.verb} \${request.path}\\n\` };
}
`;
}

const TEST_SOURCE = `// A test of handler.js without a server: \`node --test\` runs it. The request dicts are built as isohttpd builds them.
import assert from 'node:assert/strict';
import test from 'node:test';
import handler from './handler.js';

/** A request dict for \`verb path\`, with \`body\` as its datastream. */
function request(verb, path, body = '') {
  let rest = new TextEncoder().encode(body);
  const datastream = {
    read(size) {
      const n = size === undefined ? rest.length : Math.min(size, rest.length);
      const out = rest.slice(0, n);
      rest = rest.slice(n);
      return out;
    },
    text() {
      return new TextDecoder().decode(this.read());
    },
  };
  return { verb, path, querystr: null, querydict: {}, version: '1.1', headers: { Host: 'localhost' }, datastream, httpdid: 1, remoteipstr: '127.0.0.1', remoteportnum: 50000 };
}

test('GET / greets', () => {
  const r = handler(request('GET', '/'));
  assert.equal(r.statuscode, 200);
  assert.match(r.message, /^Hello from /);
});

test('POST /echo answers the body', () => {
  const r = handler(request('POST', '/echo', 'ping'));
  assert.equal(r.statuscode, 200);
  assert.equal(new TextDecoder().decode(r.message), 'ping');
});

test('anything else is 404', () => {
  assert.equal(handler(request('GET', '/nope')).statuscode, 404);
});
`;

/**
 * Writes the starter project into `dir` (made if missing).
 * @throws UsageError when the name is invalid, or a file it would write exists (nothing is written then).
 */
export async function initProject(dir: string, opts: { name?: string; port?: number } = {}): Promise<InitResult> {
  const name = opts.name ?? nameFromDir(dir);
  if (!SERVER_NAME.test(name)) throw new UsageError(`--name must be lower case letters, digits and hyphens, starting with a letter (at most 63), not ${JSON.stringify(name)}`);
  const port = opts.port ?? INIT_PORT;
  if (port < 1 || port > 65535) throw new UsageError(`--port must be 1–65535, not ${port}`);
  const project = { name, entry: 'handler.js', port };
  const files: Array<[string, string]> = [
    ['handler.js', handlerSource(name)],
    [PROJECT_FILE, `${JSON.stringify(project, null, 2)}\n`],
    ['handler.test.mjs', TEST_SOURCE],
  ];
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
