// A slow uploader holds no isolate: a body within the server's bodyWindowBytes is received by the host before the handler starts, so a ready request of the same server is answered while the upload is still open, and the upload's time is not handler time (a body trickled over ~1.5 s is answered 200 under timeoutMs 300).

import t from 'tap';
import { startService } from './helpers/service.js';
import { parseResponses, trickleUpload } from './helpers/raw-http.js';

const HANDLER = `export default (r) => ({ version: '1.1', statuscode: 200, headers: {}, message: r.verb + ' ' + r.datastream.text().length })`;

t.test('a slow upload does not hold the server, and is not handler time', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { port } = await svc.deploy(HANDLER, { timeoutMs: 300 });
  const upload = await trickleUpload(port, 'POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 30\r\nConnection: close\r\n\r\n', 30, 50);
  t.teardown(() => upload.stop());
  // Ready requests of the same server while the upload trickles: answered at once, the upload still open.
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const r = await fetch(`http://127.0.0.1:${port}/quick`);
    t.equal(`${r.status} ${await r.text()}`, '200 GET 0', `GET ${i + 1} answered`);
    t.ok(upload.sent() < 30 && !upload.answered(), `while the upload is still open (${upload.sent()} of 30 bytes sent)`);
  }
  const [res] = parseResponses(await upload.closed);
  t.equal(res?.status, 200, 'the upload (~1.5 s, timeoutMs 300) is answered 200: its time was the connection’s');
  t.equal(res?.body.toString(), 'POST 30', 'with its whole body');
});
