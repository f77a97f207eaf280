// A TypeScript handler's exception in the tail and the log: its stack names handler.ts with the line and column of the throw in the .ts source as written (types stripped to whitespace keep every position).

import t from 'tap';
import { tail } from './helpers/follow.js';
import { startService } from './helpers/service.js';

const SOURCE = `interface Dict {
  path: string;
}
type Answer = { version: '1.1'; statuscode: number; headers: Record<string, string>; message: string };
const fail = (why: string): never => {
  throw new TypeError(why);
};
export default function handler(request: Dict): Answer {
  if (request.path === '/boom') fail(\`no \${request.path as string}\`);
  return { version: '1.1', statuscode: 200, headers: {}, message: 'ok' };
}
`;

t.test('the stack points into the .ts source', async (t) => {
  const svc = await startService(t);
  const { httpdid, port } = await svc.deploy(SOURCE, undefined, undefined, { language: 'typescript' });
  const f = await tail(svc.url, httpdid);
  const r = await fetch(`http://127.0.0.1:${port}/boom`);
  t.equal(r.status, 500);
  await r.text();
  await f.waitFor((l) => l.some((e) => (e as { kind: string }).kind === 'request'), 10_000, 'the request');
  const e = f.lines.find((x) => (x as { kind: string }).kind === 'request') as { outcome: string; detail: string; stack: string };
  t.equal(e.outcome, 'exception');
  t.match(e.detail, /no \/boom/);
  t.match(e.stack, /^TypeError: no \/boom\n/, 'the stack starts with the error');
  // line 6 column 9: `throw` inside fail; line 9 column 33: the call to fail in the handler.
  t.match(e.stack, /handler\.ts:6:9/, 'the throw, at its line and column in the .ts file');
  t.match(e.stack, /handler\.ts:9:33/, 'the caller, at its line and column');
  t.notMatch(e.stack, /handler\.js/, 'no frame under the name the isolate knows it by');
  f.response.destroy();
  const logs = (await svc.api('GET', `/servers/${httpdid}/logs`)).body.lines as Array<{ kind: string; stack?: string }>;
  t.match(logs.find((l) => l.kind === 'request')?.stack, /handler\.ts:6:9/, 'the log says the same');
});
