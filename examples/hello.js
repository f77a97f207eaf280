// The smallest isohttpd handler: answers every request with a greeting.
export default function handler(request) {
  return {
    version: '1.1',
    statuscode: 200,
    headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    message: `Hello from isohttpd! You asked for ${request.path}\n`,
  };
}
