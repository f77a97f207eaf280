// The virtual-host name rules (src/core/hostnames.ts): normalisation and validation of declared names, the Host value reduced to a name, overlap between claims, and the routing table's precedence (exact, longest wildcard suffix, fallback).

import t from 'tap';
import { HostTable, hostnameMatches, hostnamesOverlap, hostOfAuthority, normaliseHostname } from '../src/core/hostnames.js';

t.test('declared names are normalised or refused', async (t) => {
  t.same(normaliseHostname('API.Example.COM.'), { name: 'api.example.com' });
  t.same(normaliseHostname('*.Example.com'), { name: '*.example.com' });
  t.same(normaliseHostname('xn--bcher-kva.example'), { name: 'xn--bcher-kva.example' });
  for (const bad of [
    '*',
    '*.com',
    'a.*.com',
    '*a.example',
    '**.example.com',
    '-a.example',
    'a-.example',
    'a..example',
    '.example',
    '10.0.0.1',
    'a_b.example',
    `${'a'.repeat(64)}.example`,
    `${'a.'.repeat(127)}com`,
  ]) {
    t.ok('error' in normaliseHostname(bad), `refused: ${bad.slice(0, 30)}`);
  }
});

t.test('a Host value reduced to the name it designates', async (t) => {
  t.equal(hostOfAuthority('Api.Example.com:8080'), 'api.example.com');
  t.equal(hostOfAuthority('api.example.com.'), 'api.example.com');
  t.equal(hostOfAuthority('127.0.0.1:80'), null, 'an IPv4 literal is no name');
  t.equal(hostOfAuthority('[::1]:80'), null, 'an IPv6 literal is no name');
  t.equal(hostOfAuthority(''), null);
  t.equal(hostOfAuthority(null), null);
});

t.test('matching and overlap', async (t) => {
  t.ok(hostnameMatches('*.example.com', 'a.example.com'));
  t.ok(hostnameMatches('*.example.com', 'a.b.example.com'));
  t.notOk(hostnameMatches('*.example.com', 'example.com'), 'not the suffix itself');
  t.notOk(hostnameMatches('*.example.com', 'badexample.com'), 'a label boundary');
  for (const [a, b] of [
    ['a.example.com', 'a.example.com'],
    ['*.example.com', 'a.example.com'],
    ['*.example.com', '*.a.example.com'],
    ['*.a.example.com', '*.example.com'],
    ['x.y.example.com', '*.example.com'],
  ] as const)
    t.ok(hostnamesOverlap(a, b), `${a} overlaps ${b}`);
  for (const [a, b] of [
    ['*.example.com', 'example.com'],
    ['*.a.example.com', 'a.example.com'],
    ['*.example.com', '*.example.org'],
    ['*.ample.com', 'x.example.com'],
  ] as const)
    t.notOk(hostnamesOverlap(a, b), `${a} does not overlap ${b}`);
});

t.test('the table: exact, then the longest wildcard suffix, then the fallback', async (t) => {
  const table = new HostTable<string>();
  table.add(['example.com', '*.example.com'], 'root', false);
  table.add(['api.example.com'], 'api', false);
  table.add(['*.eu.example.com'], 'eu', false);
  t.equal(table.route('example.com'), 'root');
  t.equal(table.route('api.example.com'), 'api', 'exact beats wildcard');
  t.equal(table.route('www.example.com'), 'root');
  t.equal(table.route('x.eu.example.com'), 'eu', 'the longest suffix');
  t.equal(table.route('y.x.eu.example.com'), 'eu');
  t.equal(table.route('eu.example.com'), 'root');
  t.equal(table.route('example.org'), null, 'no match, no fallback');
  t.equal(table.route(null), null);
  table.add(['other.org'], 'fallback', true);
  t.equal(table.route('example.org'), 'fallback');
  t.equal(table.route(null), 'fallback', 'no name: the fallback');
  table.remove('eu');
  t.equal(table.route('x.eu.example.com'), 'root', 'a removed wildcard no longer matches');
  table.remove('root');
  table.remove('api');
  table.remove('fallback');
  t.ok(table.empty);
});
