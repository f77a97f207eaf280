// A Workers-style handler: the Fetch API form (`export default { fetch }`), as on Cloudflare Workers. GET answers JSON about the request; POST echoes the body; `env.GREETING` comes from the server's vars or secrets.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'POST') return new Response(await request.text(), { status: 201, headers: { 'content-type': request.headers.get('content-type') ?? 'text/plain' } });
    return Response.json({ greeting: env.GREETING ?? 'hello', method: request.method, path: url.pathname, query: Object.fromEntries(url.searchParams) });
  },
};
