// TypeScript handlers: a `typescript` source is stripped of its types (Node.js's module.stripTypeScriptTypes, strip mode) in the control process before any worker sees it; types become spaces, so lines and columns in errors and stacks are the TypeScript source's.

import { stripTypeScriptTypes } from 'node:module';
import { IsoError } from '../../core/errors.js';
import type { Language } from '../../core/language.js';

let quiet = false;

/**
 * Node.js 24 warns once per process that stripTypeScriptTypes is experimental. The service's log
 * says which servers are TypeScript; this one warning, only, is not printed.
 */
function silenceStripWarning(): void {
  if (quiet) return;
  quiet = true;
  const emit = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]): void => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/stripTypeScriptTypes is an experimental feature/.test(text)) return;
    (emit as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}

/**
 * `at line L, column C` from the code frame node puts at the top of the error's stack (`:L`, the
 * source lines up to it, then a line of spaces and carets under the failing part), or ''.
 */
function position(err: Error): string {
  const lines = (err.stack ?? '').split('\n');
  const line = /^[^\s]*:(\d+)$/.exec(lines[0] ?? '')?.[1];
  if (line === undefined) return '';
  const caret = lines.slice(1, 40).find((l) => /^ *\^/.test(l));
  return caret === undefined ? ` at line ${line}` : ` at line ${line}, column ${caret.indexOf('^') + 1}`;
}

/**
 * The JavaScript a worker runs for `source` in `language`: the source itself for JavaScript; for
 * TypeScript, the source with its types replaced by spaces (same lines and columns). Syntax that
 * strip mode cannot erase (enums, namespaces, parameter properties) is refused.
 * @throws IsoError 422 ISO_ERR_API_INVALID_SOURCE naming the problem and where it is
 */
export function runnableSource(source: string, language: Language): string {
  if (language === 'javascript') return source;
  silenceStripWarning();
  try {
    return stripTypeScriptTypes(source, { mode: 'strip' });
  } catch (err) {
    const e = err as Error & { code?: string };
    const what = e.code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX' ? `${e.message} (use a plain const object or union type instead)` : e.message;
    throw new IsoError('ISO_ERR_API_INVALID_SOURCE', `TypeScript: ${what}${position(e)}`);
  }
}
