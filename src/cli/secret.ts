// `isohttpd secret put|ls|rm`: a server's secrets from the command line; the value is read from stdin, never from an argument (which `ps` and shell history would show).

import { ENV_NAME_PATTERN, MAX_SECRET_CHARS } from '../core/env-names.js';
import { UsageError } from './args.js';

/** The name a secret or variable may have: a letter or `_`, then letters, digits and `_` (at most 64). */
const ENV_NAME = new RegExp(ENV_NAME_PATTERN);

/** Most bytes of one secret's value read from stdin (UTF-8): the API's limit in characters, in bytes as the CLI counts them. */
const MAX_SECRET_BYTES = MAX_SECRET_CHARS;

/**
 * Reads a secret's value from `stdin` to its end: one trailing newline (`echo`, a heredoc) is
 * dropped, nothing else. @throws UsageError when it is empty, too large, or stdin is a terminal with nothing typed
 */
export async function readSecretValue(stdin: NodeJS.ReadableStream & { isTTY?: boolean }, name: string): Promise<string> {
  if (stdin.isTTY === true) process.stderr.write(`isohttpd: type the value of ${name}, then Ctrl-D\n`);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    bytes += b.length;
    if (bytes > MAX_SECRET_BYTES + 2) throw new UsageError(`the value of ${name} is larger than ${MAX_SECRET_BYTES} bytes`, false);
    chunks.push(b);
  }
  let value = Buffer.concat(chunks).toString('utf8');
  if (value.endsWith('\r\n')) value = value.slice(0, -2);
  else if (value.endsWith('\n')) value = value.slice(0, -1);
  if (value === '') throw new UsageError(`the value of ${name} is empty: give it on stdin (e.g. printf %s "$VALUE" | isohttpd secret put ID ${name})`, false);
  if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw new UsageError(`the value of ${name} is larger than ${MAX_SECRET_BYTES} bytes`, false);
  return value;
}

/** Checks a secret's NAME argument. @throws UsageError */
export function secretName(name: string | undefined, command: string): string {
  if (name === undefined) throw new UsageError(`${command} needs NAME`);
  if (!ENV_NAME.test(name)) throw new UsageError(`NAME must be a letter or _ then letters, digits or _ (at most 64), not ${JSON.stringify(name)}`);
  return name;
}
