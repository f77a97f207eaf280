// The __NAME__ handler for isohttpd, in TypeScript (its types are stripped when it is deployed). `request` is the request dict, `env` the server's variables and secrets, the value returned the response dict (see isohttpd's README, "Handlers"; the types are in isohttpd.d.ts).
import type { Env, RequestDict, ResponseDict } from './isohttpd.js';

export default function handler(request: RequestDict, env: Env): ResponseDict {
  if (request.path === '/') {
    return { version: '1.1', statuscode: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, message: `${env['GREETING'] ?? 'Hello'} from __NAME__!\n` };
  }
  if (request.path === '/echo' && request.verb === 'POST') {
    // The body, as bytes; datastream.text() reads it as UTF-8.
    return { version: '1.1', statuscode: 200, headers: { 'Content-Type': 'application/octet-stream' }, message: request.datastream.read() };
  }
  return { version: '1.1', statuscode: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, message: `no route ${request.verb} ${request.path}\n` };
}
