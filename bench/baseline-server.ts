// The baseline for the throughput scenarios: a plain node:http server running a handler module unsandboxed, in-process, with the same request dict and response dict.

import { once } from 'node:events';
import http from 'node:http';

const source = process.argv[2];
if (source === undefined) throw new Error('usage: baseline-server.ts <handler source as a data: URL>');
const mod = (await import(source)) as { default: (req: unknown) => unknown };
const handler = mod.default;

interface ResponseDict {
  statuscode: number;
  headers: Record<string, string>;
  message: string | Uint8Array | AsyncIterable<string | Uint8Array>;
}

function queryDict(q: string | null): Record<string, string | null> {
  const out: Record<string, string | null> = Object.create(null) as Record<string, string | null>;
  if (q === null || q === '') return out;
  for (const [k, v] of new URLSearchParams(q)) out[k] = v;
  return out;
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    const request = {
      verb: req.method,
      path: q === -1 ? target : target.slice(0, q),
      querystr: q === -1 ? null : target.slice(q + 1),
      querydict: queryDict(q === -1 ? null : target.slice(q + 1)),
      version: req.httpVersion,
      headers: req.headers,
      httpdid: 0,
      remoteipstr: req.socket.remoteAddress ?? '',
      remoteportnum: req.socket.remotePort ?? 0,
      datastream: { read: () => new Uint8Array(body), text: () => body.toString('utf8') },
    };
    void Promise.resolve(handler(request)).then(
      (r) => {
        const out = r as ResponseDict;
        res.writeHead(out.statuscode, out.headers);
        if (typeof out.message === 'string' || out.message instanceof Uint8Array) return res.end(out.message);
        // A streamed message (an iterable or async iterable of chunks), written with back-pressure as isohttpd does.
        void (async () => {
          for await (const c of out.message as AsyncIterable<string | Uint8Array>) if (!res.write(c)) await once(res, 'drain');
          res.end();
        })().catch(() => res.destroy());
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`listening ${typeof a === 'object' && a !== null ? a.port : 0}\n`);
});
process.on('disconnect', () => process.exit(0));
