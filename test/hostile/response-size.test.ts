// Hostile: a response over maxResponseBytes (string or bytes) is refused with 500 before it leaves the isolate; the next request is served (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile } from './helpers.js';

t.test('responses over maxResponseBytes', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const port = (
    await svc.deploy(
      hostile(`(r) => ({ version: '1.1', statuscode: 200, headers: {},
    message: r.path === '/bytes' ? new Uint8Array(3 * 1024 * 1024) : 'x'.repeat(3 * 1024 * 1024) })`),
      { maxResponseBytes: 2 * 1024 * 1024, memoryMb: 128 },
      undefined,
      { exposeErrors: true },
    )
  ).port;
  for (const path of ['/string', '/bytes']) {
    const r = await get(port, path);
    t.equal(r.status, 500, path);
    t.match(r.text, /^invalid response: response is larger than maxResponseBytes \(2097152 bytes\) \(request id [^)]+\)\n$/, path);
    t.equal((await get(port, '/ok')).status, 200, `${path}: served after`);
  }
  await c.check(t, { memoryMb: 128 });
});
