// A code frame for an error that names a line and column (`… at line L, column C`): the lines around it with a caret, as the dev loop prints a syntax error.

/** Lines shown before and after the one the error names. */
const CONTEXT_LINES = 2;

/**
 * The lines of `source` around the position `message` names (`at line L, column C`, 1-based), the
 * line itself marked with `>` and a caret under the column; '' when the message names none or it is
 * outside the source.
 */
export function codeFrame(source: string, message: string): string {
  const m = /at line (\d+), column (\d+)/.exec(message);
  if (m === null) return '';
  const line = Number(m[1]);
  const column = Number(m[2]);
  const lines = source.split(/\r?\n/);
  // The newline that ends the last line starts no line of its own.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  if (line < 1 || line > lines.length) return '';
  const first = Math.max(1, line - CONTEXT_LINES);
  const last = Math.min(lines.length, line + CONTEXT_LINES);
  const width = String(last).length;
  let out = '';
  for (let n = first; n <= last; n++) {
    const text = (lines[n - 1] ?? '').replace(/\t/g, '  ');
    out += `${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${text}\n`;
    if (n === line) out += `  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^\n`;
  }
  return out;
}
