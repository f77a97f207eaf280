// Test helper: loads the codec cases of test/http1/*.md (llhttp's markdown format, described in test/http1/README.md): exact request bytes and the expected event log.

import type { Limits } from '../../src/core/limits.js';
import { resolveLimits } from '../../src/core/limits.js';
import { listTestFiles, readTestFile } from './fixtures.js';

/** Which part of the codec a case is run against: the head parser alone, or the whole request decoder. */
export type CaseType = 'head' | 'request';

/** A case's settings, from the `<!-- meta={...} -->` comments (the file's, then the case's own). */
export interface CaseMeta {
  readonly type: CaseType;
  /** Limits over the defaults of schemas/limits.json. */
  readonly limits: Readonly<Partial<Limits>>;
  /** Whether the log shows the parts of each accepted head's target (a `target …` line after its `head` line). */
  readonly parts: boolean;
}

/** One `## heading` of a fixture file. */
export interface HttpCase {
  /** The file's name in test/http1/, e.g. `chunked.md`. */
  readonly file: string;
  /** The heading's line number (1-based). */
  readonly line: number;
  readonly name: string;
  readonly meta: CaseMeta;
  /** The exact bytes of the ```http block. */
  readonly input: Buffer;
  /** The ```log block's lines, escapes undone (latin1 strings). */
  readonly log: readonly string[];
  /** `test/http1/<file>:<line> <name>`, for messages. */
  readonly where: string;
}

const LIMIT_NAMES = new Set(Object.keys(resolveLimits(undefined)));

/**
 * Undoes the escapes of one line of a block (test/http1/README.md): `\r \n \t \\ \xHH` and
 * `\{TEXT*N}` (TEXT N times); a `\` at the very end means "no line end here" (`continued`).
 * Literal characters must be printable ASCII, and the line must not end with a space.
 * @throws Error naming `where` for anything else.
 */
export function unescapeLine(line: string, where: string): { text: string; continued: boolean } {
  if (line.endsWith(' ')) throw new Error(`${where}: a line ends with a space (invisible, and editors strip it): write it as \\x20`);
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      throw new Error(`${where}: literal character U+${c.toString(16).padStart(4, '0')}; only printable ASCII is written as itself (use \\t, \\xHH)`);
    }
    if (c !== 0x5c) {
      out += line[i];
      continue;
    }
    const e = line[++i];
    if (e === undefined) return { text: out, continued: true };
    if (e === 'r') out += '\r';
    else if (e === 'n') out += '\n';
    else if (e === 't') out += '\t';
    else if (e === '\\') out += '\\';
    else if (e === 'x') {
      const hex = line.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error(`${where}: \\x needs exactly two hex digits, got ${JSON.stringify(hex)}`);
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 2;
    } else if (e === '{') {
      const close = line.indexOf('}', i);
      const m = close === -1 ? null : /^(.+)\*([1-9][0-9]*)$/.exec(line.slice(i + 1, close));
      if (m === null || (m[1] ?? '').includes('\\')) throw new Error(`${where}: a repeat is \\{TEXT*N} (TEXT without backslash or "}", N >= 1)`);
      out += (m[1] ?? '').repeat(Number(m[2]));
      i = close;
    } else {
      throw new Error(`${where}: unknown escape \\${e} (known: \\r \\n \\t \\\\ \\xHH \\{TEXT*N}, and \\ at the end of a line)`);
    }
  }
  return { text: out, continued: false };
}

/** The bytes of a ```http block: every line ends with CRLF unless it ends with `\`. */
function blockBytes(lines: readonly string[], where: string): Buffer {
  if (lines.length === 0) throw new Error(`${where}: empty http block`);
  let s = '';
  for (const line of lines) {
    const { text, continued } = unescapeLine(line, where);
    s += continued ? text : `${text}\r\n`;
  }
  return Buffer.from(s, 'latin1');
}

/** The events of a ```log block, one a line. */
function blockLog(lines: readonly string[], where: string): string[] {
  return lines.map((line) => {
    const { text, continued } = unescapeLine(line, where);
    if (continued || text === '') throw new Error(`${where}: a log line is one event: no empty lines, no \\ at the end`);
    return text;
  });
}

type MetaDraft = { type?: CaseType; limits?: Partial<Limits>; parts?: boolean };

function parseMeta(json: string, where: string): MetaDraft {
  let meta: unknown;
  try {
    meta = JSON.parse(json) as unknown;
  } catch (err) {
    throw new Error(`${where}: meta is not JSON: ${(err as Error).message}`);
  }
  if (typeof meta !== 'object' || meta === null) throw new Error(`${where}: meta must be an object`);
  const m = meta as Record<string, unknown>;
  for (const key of Object.keys(m)) if (key !== 'type' && key !== 'limits' && key !== 'parts') throw new Error(`${where}: unknown meta key ${key} (known: type, limits, parts)`);
  if (m['parts'] !== undefined && typeof m['parts'] !== 'boolean') throw new Error(`${where}: meta parts must be true or false`);
  if (m['type'] !== undefined && m['type'] !== 'head' && m['type'] !== 'request') throw new Error(`${where}: meta type must be "head" or "request"`);
  const limits = m['limits'];
  if (limits !== undefined) {
    if (typeof limits !== 'object' || limits === null) throw new Error(`${where}: meta limits must be an object`);
    for (const [k, v] of Object.entries(limits)) if (!LIMIT_NAMES.has(k) || typeof v !== 'number') throw new Error(`${where}: meta limits: ${k} is not a numeric limit`);
  }
  return m as MetaDraft;
}

interface Draft {
  name: string;
  line: number;
  meta: MetaDraft | null;
  http: string[] | null;
  log: string[] | null;
}

/** Parses one fixture file's text into its cases. */
export function parseHttpFixtures(file: string, text: string): HttpCase[] {
  const lines = text.split(/\r?\n/);
  const cases: HttpCase[] = [];
  const names = new Set<string>();
  let fileMeta: MetaDraft = {};
  let draft: Draft | null = null;
  let fence: { kind: 'http' | 'log'; lines: string[]; line: number } | null = null;
  const at = (n: number): string => `test/http1/${file}:${n}`;
  const finish = (): void => {
    if (draft === null) return;
    const where = `${at(draft.line)} ${draft.name}`;
    if (draft.http === null || draft.log === null) throw new Error(`${where}: a case needs one http block and one log block`);
    const type = draft.meta?.type ?? fileMeta.type ?? 'request';
    const limits = { ...fileMeta.limits, ...draft.meta?.limits };
    const parts = draft.meta?.parts ?? fileMeta.parts ?? false;
    cases.push({ file, line: draft.line, name: draft.name, meta: { type, limits, parts }, input: blockBytes(draft.http, where), log: blockLog(draft.log, where), where });
    draft = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const n = i + 1;
    if (fence !== null) {
      if (line !== '```') {
        fence.lines.push(line);
        continue;
      }
      const d = draft as Draft | null;
      if (d === null) throw new Error(`${at(fence.line)}: a block outside a case`);
      if (d[fence.kind] !== null) throw new Error(`${at(fence.line)}: a second ${fence.kind} block in one case`);
      d[fence.kind] = fence.lines;
      fence = null;
      continue;
    }
    if (line.startsWith('```')) {
      const info = line.slice(3);
      if (info !== 'http' && info !== 'log') throw new Error(`${at(n)}: blocks are \`\`\`http or \`\`\`log, not ${JSON.stringify(line)}`);
      if (draft === null) throw new Error(`${at(n)}: a block before the first ## case`);
      fence = { kind: info, lines: [], line: n };
    } else if (line.startsWith('## ')) {
      finish();
      const name = line.slice(3).trim();
      if (names.has(name)) throw new Error(`${at(n)}: a second case named ${JSON.stringify(name)}`);
      names.add(name);
      draft = { name, line: n, meta: null, http: null, log: null };
    } else if (line.startsWith('#') && !line.startsWith('# ')) {
      throw new Error(`${at(n)}: cases are "## " headings; no deeper headings`);
    } else {
      const meta = /^<!--\s*meta=(.*)-->\s*$/.exec(line);
      if (meta === null) continue; // prose
      const d = draft as Draft | null;
      if (d === null) {
        if (cases.length > 0 || Object.keys(fileMeta).length > 0) throw new Error(`${at(n)}: one file meta, before the first case`);
        fileMeta = parseMeta(meta[1] ?? '', at(n));
      } else {
        if (d.meta !== null || d.http !== null) throw new Error(`${at(n)}: one meta per case, before its http block`);
        d.meta = parseMeta(meta[1] ?? '', at(n));
      }
    }
  }
  if (fence !== null) throw new Error(`${at(fence.line)}: block not closed`);
  finish();
  if (cases.length === 0) throw new Error(`test/http1/${file}: no cases`);
  return cases;
}

/** The cases of `test/http1/<file>`, or of every fixture file there (README.md excepted) in name order. */
export function loadHttpFixtures(file?: string): HttpCase[] {
  const files = file === undefined ? listTestFiles('http1', '.md').filter((f) => f !== 'README.md') : [file];
  return files.flatMap((f) => parseHttpFixtures(f, readTestFile(`http1/${f}`)));
}

/**
 * The `target` log line of a head (test/http1/README.md): `target path=P`, then ` query=Q` when the
 * target has a `?`, then ` authority=A` for absolute-form.
 */
export function targetLine(head: { readonly path: string; readonly query: string | null; readonly authority: string | null }): string {
  return `target path=${head.path}${head.query === null ? '' : ` query=${head.query}`}${head.authority === null ? '' : ` authority=${head.authority}`}`;
}

/** A request-type log read back: the requests whose head was accepted, in order, and the fault that ended the input. */
export interface RequestOutcome {
  readonly requests: ReadonlyArray<{ readonly head: string; readonly body: string; readonly complete: boolean }>;
  readonly fault: { readonly status: number; readonly code: string } | null;
}

/**
 * Reads a request-type log (test/http1/README.md): `head …`, `target …` (skipped), `body …`, `complete`, `fault STATUS CODE`.
 * @throws Error naming the case for a line of no known event.
 */
export function requestOutcome(c: HttpCase): RequestOutcome {
  const requests: Array<{ head: string; body: string; complete: boolean }> = [];
  let fault: RequestOutcome['fault'] = null;
  for (const line of c.log) {
    const last = requests[requests.length - 1];
    const f = /^fault ([0-9]{3}) (ISO_ERR_[A-Z0-9_]+)$/.exec(line);
    if (line.startsWith('head ')) requests.push({ head: line.slice(5), body: '', complete: false });
    else if (line.startsWith('body ') && last !== undefined) last.body += line.slice(5);
    else if (line === 'complete' && last !== undefined) last.complete = true;
    else if (line.startsWith('target ') && last !== undefined) continue;
    else if (f !== null) fault = { status: Number(f[1]), code: f[2] ?? '' };
    else throw new Error(`${c.where}: not a request log line: ${JSON.stringify(line)}`);
  }
  return { requests, fault };
}

/** `s` (latin1) written with the escapes of a block (printable ASCII as itself), for messages. */
export function escapeBytes(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c > 0x7e || (c === 0x20 && i === s.length - 1)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += s[i];
  }
  return out;
}
