// Plain-text output of the CLI: aligned tables, key/value lists, and escaping of anything a tenant controls so it cannot drive the terminal.

/** Control characters (C0, DEL, C1), line and paragraph separators and bidi controls: escaped before printing. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `s` with every control character shown as an escape (`\n`, `\t`, `\u001b`…), so one value stays on one line and cannot send terminal sequences. */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Rows under a header, columns separated by two spaces and left-aligned; cells are made printable. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const all = [header, ...rows].map((r) => r.map(printable));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return (
    all
      .map((r) =>
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** A nested object as `key.path  value` lines in its own order (arrays and objects flattened); values are made printable. */
export function formatPairs(obj: Record<string, unknown>): string {
  const pairs: Array<[string, string]> = [];
  const walk = (prefix: string, v: unknown): void => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0) {
      for (const [k, sub] of Object.entries(v)) walk(prefix === '' ? k : `${prefix}.${k}`, sub);
    } else {
      pairs.push([prefix, typeof v === 'string' ? v : JSON.stringify(v)]);
    }
  };
  walk('', obj);
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${printable(k).padEnd(width)}  ${printable(v)}`).join('\n') + '\n';
}
