// The __NAME__ handler for isohttpd. `request` is the request dict, `env` the server's variables and secrets, the value returned the response dict (see isohttpd's README, "Handlers").
export default function handler(request, env) {
  if (request.path === '/') {
    return { version: '1.1', statuscode: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, message: `${env.GREETING ?? 'Hello'} from __NAME__!\n` };
  }
  if (request.path === '/echo' && request.verb === 'POST') {
    // The body, as bytes; datastream.text() reads it as UTF-8.
    return { version: '1.1', statuscode: 200, headers: { 'Content-Type': 'application/octet-stream' }, message: request.datastream.read() };
  }
  return { version: '1.1', statuscode: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, message: `no route ${request.verb} ${request.path}\n` };
}
