// Request-smuggling rules (RFC 9112 §6) end to end: the cases of test/http1/smuggling.md sent to a running service; each ambiguous framing is refused and closed, and nothing after it is ever served.

import t from 'tap';
import { escapeBytes, loadHttpFixtures, requestOutcome } from './helpers/http1-fixtures.js';
import { exchange, parseResponses } from './helpers/raw-http.js';
import { startService } from './helpers/service.js';

const HANDLER = `let smuggled = 0;
export default (r) => {
  if (r.path === '/smuggled') smuggled++;
  return { version: '1.1', statuscode: 200, headers: {}, message: r.path === '/count' ? String(smuggled) : 'body ' + r.datastream.text() };
};`;

// The same cases test/codec/request-decoder.test.ts feeds to the decoder.
const cases = loadHttpFixtures('smuggling.md');

t.test('smuggling.md over a socket', async (t) => {
  t.ok(cases.length >= 20, `${cases.length} cases`);
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  for (const c of cases) {
    const { requests, fault } = requestOutcome(c);
    const served = requests.filter((r) => r.complete);
    const last = requests[requests.length - 1];
    // Without a fault the server keeps the connection open unless the last request closes it: the case would wait for a timeout.
    if (fault === null && !(last?.complete === true && / close$/.test(last.head))) {
      t.fail(`${c.where}: a case here must end with a fault or a request that closes`);
      continue;
    }
    const replies = parseResponses(await exchange(port, c.input));
    const label = `${c.name} (${c.where})`;
    t.equal(replies.length, served.length + (fault === null ? 0 : 1), `${label}: one answer per request served${fault === null ? '' : ', and one for the fault'}`, {
      input: escapeBytes(c.input.toString('latin1')),
    });
    served.forEach((r, i) => {
      t.equal(replies[i]?.status, 200, `${label}: request ${i} served`);
      t.equal(replies[i]?.body.toString('latin1'), `body ${r.body}`, `${label}: request ${i} with its body`);
    });
    if (fault !== null) {
      const answer = replies[served.length];
      t.equal(answer?.status, fault.status, `${label}: ${fault.status}`);
      t.equal(answer?.headers['connection'], 'close', `${label}: and close`);
    }
  }
  const count = parseResponses(await exchange(port, 'GET /count HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'));
  t.equal(count[0]?.body.toString(), '0', 'the smuggled request was never served');
});
