// A test of __ENTRY__ without a server: `node --test` runs it. The request dicts are built as isohttpd builds them.
import assert from 'node:assert/strict';
import test from 'node:test';
import handler from './__ENTRY__';

/** A request dict for `verb path`, with `body` as its datastream. */
function request(verb, path, body = '') {
  let rest = new TextEncoder().encode(body);
  const datastream = {
    read(size) {
      const n = size === undefined ? rest.length : Math.min(size, rest.length);
      const out = rest.slice(0, n);
      rest = rest.slice(n);
      return out;
    },
    text() {
      return new TextDecoder().decode(this.read());
    },
  };
  return { verb, path, querystr: null, querydict: {}, version: '1.1', headers: { Host: 'localhost' }, datastream, httpdid: 1, remoteipstr: '127.0.0.1', remoteportnum: 50000 };
}

test('GET / greets', () => {
  const r = handler(request('GET', '/'), {});
  assert.equal(r.statuscode, 200);
  assert.match(r.message, /^Hello from /);
});

test('POST /echo answers the body', () => {
  const r = handler(request('POST', '/echo', 'ping'), {});
  assert.equal(r.statuscode, 200);
  assert.equal(new TextDecoder().decode(r.message), 'ping');
});

test('anything else is 404', () => {
  assert.equal(handler(request('GET', '/nope'), {}).statuscode, 404);
});
