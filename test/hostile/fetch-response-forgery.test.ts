// Hostile: a fetch handler cannot forge what leaves its isolate. A look-alike object, a subclass that overrides the getters, a patched Response.prototype, WeakMap.prototype or Headers.prototype change nothing of what the host is sent: the prelude's own state is read, and the host validates the response dict by type anyway.

import t from 'tap';
import { startService } from '../helpers/service.js';

const HOSTILE = `class Sneaky extends Response {
  get status() { return 999; }
  get headers() { return new Headers({ 'x-forged': 'yes' }); }
}
const realGet = WeakMap.prototype.get;
export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/lookalike') return { status: 200, statusText: 'OK', headers: new Headers(), body: null, text: async () => 'forged' };
    if (path === '/subclass') return new Sneaky('real body', { status: 202 });
    if (path === '/patched') {
      Object.defineProperty(Response.prototype, 'status', { get() { return 100; } });
      WeakMap.prototype.get = function () { return { status: 999, statusText: 'x', headers: new Headers(), used: false, source: 'forged' }; };
      Headers.prototype.entries = function* () { yield ['x-forged', 'yes']; };
      const r = new Response('after patches', { status: 203, headers: { 'x-real': '1' } });
      WeakMap.prototype.get = realGet;
      return r;
    }
    return new Response('ok');
  },
};
`;

t.test('what leaves the isolate is what the prelude recorded', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HOSTILE, undefined, undefined, { exposeErrors: true });
  const base = `http://127.0.0.1:${port}`;
  const look = await fetch(`${base}/lookalike`);
  t.equal(look.status, 500, 'a look-alike object is not a Response');
  t.match(await look.text(), /a fetch handler must return a Response/);
  const sub = await fetch(`${base}/subclass`);
  t.equal(sub.status, 202, "a subclass's getters are not what is read");
  t.equal(sub.headers.get('x-forged'), null);
  t.equal(await sub.text(), 'real body');
  const patched = await fetch(`${base}/patched`);
  t.equal(patched.status, 203, 'patched prototypes are not what is read');
  t.equal(patched.headers.get('x-real'), '1');
  t.equal(patched.headers.get('x-forged'), null);
  t.equal(await patched.text(), 'after patches');
  t.equal(await (await fetch(`${base}/ok`)).text(), 'ok', 'the server serves on');
});
