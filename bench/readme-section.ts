// Rewrites one marked section of bench/README.md (between `<!-- NAME:begin -->` and `<!-- NAME:end -->`), leaving the rest alone.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

const README = new URL('./README.md', import.meta.url);
const INTRO = '# Benchmarks\n\nRun with `npm run bench` (it builds `dist/` first). The sections below are rewritten by the\nbenchmarks that produce them, each between its own markers.\n';

/** The machine, runtime and date lines every section starts with. */
export function machineLines(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `- Machine: ${cpu}, ${os.cpus().length} cores, ${os.type()} ${os.release()} ${os.arch()}\n- Runtime: Node ${process.version}\n- Date: ${new Date().toISOString()}\n`;
}

/** Replaces (or appends) the section `name` with `body`. */
export function writeSection(name: string, body: string): void {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const text = existsSync(README) ? readFileSync(README, 'utf8') : INTRO;
  const block = `${begin}\n${body.trimEnd()}\n${end}`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  const next = a !== -1 && b > a ? text.slice(0, a) + block + text.slice(b + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(README, next);
}

/**
 * When run by the whole-suite runner (`bench/run.ts`), which sets `ISOHTTPD_BENCH_RESULT` to a file
 * path, writes this benchmark's figures there as JSON so the runner can fold them into results.json.
 */
export function writeResult(value: unknown): void {
  const file = process.env['ISOHTTPD_BENCH_RESULT'];
  if (file !== undefined && file !== '') writeFileSync(file, JSON.stringify(value, null, 2));
}
