// An idle follow stream sends empty lines (keep-alives) and nothing else; lines in between are sent unchanged.

import t from 'tap';
import { ConsoleStream } from '../src/api/http/logs-follow.js';

t.test('an idle ConsoleStream sends empty lines until it is finished', async (t) => {
  const stream = new ConsoleStream(20);
  const chunks: string[] = [];
  stream.setEncoding('utf8');
  stream.on('data', (c: string) => chunks.push(c));
  const ended = new Promise((r) => stream.once('end', r));
  const waitFor = async (pred: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    t.ok(pred(), what);
  };
  await waitFor(() => chunks.length >= 2, 'keep-alives while idle');
  t.ok(
    chunks.every((c) => c === '\n'),
    'only empty lines',
  );
  stream.add({ kind: 'console', time: '2026-01-01T00:00:00.000Z', level: 'log', message: 'hi' });
  await waitFor(() => chunks.includes('{"kind":"console","time":"2026-01-01T00:00:00.000Z","level":"log","message":"hi"}\n'), 'a line in between, unchanged');
  stream.finish('deleted');
  await ended;
  const text = chunks.join('');
  const lines = text.split('\n').filter((l) => l !== '');
  t.same(lines.slice(0, -1), ['{"kind":"console","time":"2026-01-01T00:00:00.000Z","level":"log","message":"hi"}'], 'nothing but the line and empty lines');
  t.match(lines[lines.length - 1], /^\{"end":"deleted","time":"\S+Z"\}$/, 'then the last line, saying why');
});
