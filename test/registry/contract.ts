// The Registry contract: what every implementation (SQLite, PostgreSQL) must do, alone and with a second registry open on the same storage (another process or node), as tap subtests run against a factory.

import type { Test } from 'tap';
import type { Admission, AdmissionState, NewServerRow, Registry } from '../../src/api/registry/registry.js';
import { IsoError } from '../../src/core/errors.js';
import { resolveLimits } from '../../src/core/limits.js';

/** One registry on fresh, empty storage, and how to open that same storage again. */
export interface RegistryUnderTest {
  readonly registry: Registry;
  /**
   * Opens the same storage again (the first one is closed by then); absent where the
   * implementation cannot, which skips the durability tests.
   */
  readonly reopen?: () => Promise<Registry>;
  /**
   * Opens a second registry on the same storage while the first stays open (another process or
   * node); the suite closes it. Absent where the implementation cannot, which skips the
   * concurrency tests across registries.
   */
  readonly openAnother?: () => Promise<Registry>;
}

/**
 * Opens a registry on fresh storage for one subtest, and removes that storage in `t.teardown`
 * (the registries it returns are closed by the suite).
 */
export type RegistryFactory = (t: Test) => Promise<RegistryUnderTest>;

/** A creation time far from now, so that an update's new updatedAt always differs. */
const CREATED_AT = '2026-01-01T00:00:00.000Z';
/** What `isohttpd tenant add` prints (README, "Tenants"): `iso_` and 32 random bytes, base64url. */
const TOKEN = /^iso_[A-Za-z0-9_-]{43}$/;

/** A new server row of `tenant` (httpdid `httpdid`), with the given fields changed. */
function newServer(httpdid: number, tenant: string, change: Partial<NewServerRow> = {}): NewServerRow {
  return {
    httpdid,
    tenant,
    host: '127.0.0.1',
    port: 5000 + httpdid,
    source: `v1 of ${httpdid}`,
    limits: resolveLimits({}),
    exposeErrors: false,
    replicas: 1,
    state: 'running',
    createdAt: CREATED_AT,
    ...change,
  };
}

/** An admission that records each state it is called with and admits. */
function recorder(): { readonly admit: Admission; readonly seen: AdmissionState[] } {
  const seen: AdmissionState[] = [];
  return { admit: (state) => void seen.push(state), seen };
}

/** What a promise settled to: its value, or the very error it rejected with. */
const outcome = async <T>(p: Promise<T>): Promise<T | unknown> =>
  p.then(
    (v) => v,
    (err: unknown) => err,
  );

/** The rejection codes of settled results, in order (fulfilled ones left out). */
const codes = (results: PromiseSettledResult<unknown>[]): unknown[] => results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: unknown }).code] : []));

/** Runs the contract as subtests of `t`, named after the implementation, each on fresh storage from `factory`. */
export function registryContract(t: Test, name: string, factory: RegistryFactory): void {
  /** A subtest on a fresh registry, closed at its end. */
  const fresh = (title: string, body: (t: Test, reg: Registry, under: RegistryUnderTest) => Promise<void>): void => {
    t.test(`${name}: ${title}`, async (t) => {
      const under = await factory(t);
      try {
        await body(t, under.registry, under);
      } finally {
        await under.registry.close();
      }
    });
  };

  fresh('the httpdid sequence starts at 1, never repeats, also when called concurrently', async (t, reg) => {
    t.equal(await reg.nextHttpdid(), 1);
    t.equal(await reg.nextHttpdid(), 2);
    const many = await Promise.all(Array.from({ length: 20 }, () => reg.nextHttpdid()));
    t.equal(new Set(many).size, 20, 'twenty distinct httpdids');
    t.same(
      [...many].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 3),
      'the next twenty',
    );
  });

  fresh('a server is stored as version 1 and read back whole', async (t, reg) => {
    t.same(await reg.servers(), [], 'empty at first');
    const limits = resolveLimits({ memoryMb: 32 });
    t.equal(await reg.insertServer(newServer(2, 'acme', { source: 'v1', limits, replicas: 2 })), true, 'stored while no tenant exists (open default tenant)');
    const [row, ...rest] = await reg.servers();
    t.same(rest, []);
    t.match(row, { httpdid: 2, tenant: 'acme', host: '127.0.0.1', port: 5002, source: 'v1', replicas: 2, version: 1, state: 'running', reason: null, createdAt: CREATED_AT, updatedAt: CREATED_AT });
    t.same(row?.limits, limits, 'limits round-trip');
    t.equal(row?.exposeErrors, false, 'exposeErrors round-trips (false)');
    t.equal(await reg.insertServer(newServer(3, 'acme', { state: 'failed', reason: 'because', exposeErrors: true })), true);
    t.equal((await reg.servers())[1]?.exposeErrors, true, 'exposeErrors round-trips (true)');
    t.match((await reg.servers())[1], { httpdid: 3, state: 'failed', reason: 'because' }, 'a failed row with its reason');
  });

  fresh('servers and serversOf are in httpdid order; serversOf sees one tenant', async (t, reg) => {
    for (const [id, tenant] of [
      [5, 'b'],
      [3, 'a'],
      [4, 'b'],
      [1, 'a'],
    ] as const) {
      t.ok(await reg.insertServer(newServer(id, tenant)));
    }
    t.same(
      (await reg.servers()).map((r) => r.httpdid),
      [1, 3, 4, 5],
    );
    t.same(
      (await reg.serversOf('b')).map((r) => r.httpdid),
      [4, 5],
    );
    t.same(
      (await reg.serversOf('a')).map((r) => r.httpdid),
      [1, 3],
    );
    t.same(await reg.serversOf('other'), [], 'a tenant without servers');
  });

  fresh('hostnames are stored with the server and read back in order; none by default; a redeploy keeps them', async (t, reg) => {
    t.ok(await reg.insertServer(newServer(1, 'acme', { hostnames: ['api.example.com', '*.example.com'] })));
    t.ok(await reg.insertServer(newServer(2, 'acme')));
    t.same(
      (await reg.servers()).map((r) => r.hostnames),
      [['api.example.com', '*.example.com'], []],
      'round-trip; none by default',
    );
    const v2 = await reg.updateServer(1, { source: 'v2', version: 2 });
    t.same(v2?.hostnames, ['api.example.com', '*.example.com'], 'a redeploy leaves them');
    t.same(
      (await reg.serversOf('acme')).map((r) => r.hostnames.length),
      [2, 0],
    );
  });

  fresh('variables are stored with the server and each version; a redeploy that changes them keeps them; language changes too', async (t, reg) => {
    t.ok(await reg.insertServer(newServer(1, 'acme', { vars: { GREETING: 'hi', EMPTY: '' } })));
    t.ok(await reg.insertServer(newServer(2, 'acme')));
    t.same(
      (await reg.servers()).map((r) => r.vars),
      [{ GREETING: 'hi', EMPTY: '' }, {}],
      'round-trip; none by default',
    );
    const v2 = await reg.updateServer(1, { vars: { GREETING: 'hello' }, language: 'typescript', version: 2 });
    t.same(v2?.vars, { GREETING: 'hello' }, 'replaced as a whole');
    t.equal(v2?.language, 'typescript', 'the language of a redeploy is stored');
    const v3 = await reg.updateServer(1, { source: 'x', version: 3 });
    t.same(v3?.vars, { GREETING: 'hello' }, 'a redeploy without vars keeps them');
    t.same(
      (await reg.versions(1)).map((v) => [v.version, v.vars, v.language]),
      [
        [3, { GREETING: 'hello' }, 'typescript'],
        [2, { GREETING: 'hello' }, 'typescript'],
        [1, { GREETING: 'hi', EMPTY: '' }, 'javascript'],
      ],
      'each kept version with its variables and language',
    );
  });

  fresh('the egress policy is stored with the server and each version: none by default, replaced, kept by a redeploy without it, removed by null', async (t, reg) => {
    t.ok(await reg.insertServer(newServer(1, 'acme', { egress: { allow: ['api.example.com', '*.example.org:8443'] } })));
    t.ok(await reg.insertServer(newServer(2, 'acme')));
    t.same(
      (await reg.servers()).map((r) => r.egress),
      [{ allow: ['api.example.com', '*.example.org:8443'] }, null],
      'round-trip; none by default',
    );
    const v2 = await reg.updateServer(1, { egress: { allow: ['127.0.0.1:9000'] }, version: 2 });
    t.same(v2?.egress, { allow: ['127.0.0.1:9000'] }, 'replaced');
    const v3 = await reg.updateServer(1, { source: 'x', version: 3 });
    t.same(v3?.egress, { allow: ['127.0.0.1:9000'] }, 'a redeploy without it keeps it');
    const v4 = await reg.updateServer(1, { egress: null, version: 4 });
    t.equal(v4?.egress, null, 'null removes it');
    t.same(
      (await reg.versions(1)).map((v) => [v.version, v.egress]),
      [
        [4, null],
        [3, { allow: ['127.0.0.1:9000'] }],
        [2, { allow: ['127.0.0.1:9000'] }],
        [1, { allow: ['api.example.com', '*.example.org:8443'] }],
      ],
      'each kept version with its policy',
    );
  });

  fresh('secrets: written, replaced, listed by name, deleted, gone with their server; none for a missing server', async (t, reg) => {
    t.ok(await reg.insertServer(newServer(1, 'acme')));
    t.ok(await reg.insertServer(newServer(2, 'acme')));
    const at = await reg.putSecret(1, 'TOKEN', 'sealed-1');
    t.match(at, /^\d{4}-\d\d-\d\dT/, 'the time it was written');
    t.ok(await reg.putSecret(1, 'API_KEY', 'sealed-2'));
    t.ok(await reg.putSecret(1, 'TOKEN', 'sealed-3'), 'replaced');
    t.ok(await reg.putSecret(2, 'TOKEN', 'other'));
    t.same(
      (await reg.secrets(1)).map((s) => [s.name, s.sealed]),
      [
        ['API_KEY', 'sealed-2'],
        ['TOKEN', 'sealed-3'],
      ],
      'by name, the last value',
    );
    t.equal(await reg.putSecret(9, 'TOKEN', 'x'), undefined, 'a missing server gets none');
    t.same(await reg.secrets(9), []);
    t.equal(await reg.deleteSecret(1, 'API_KEY'), true);
    t.equal(await reg.deleteSecret(1, 'API_KEY'), false, 'deleted once');
    t.same(
      (await reg.secrets(1)).map((s) => s.name),
      ['TOKEN'],
    );
    t.ok(await reg.deleteServer(1));
    t.same(await reg.secrets(1), [], 'gone with the server');
    t.ok(await reg.insertServer(newServer(1, 'acme')), 'a row of the same httpdid (never in practice) starts with none');
    t.same(await reg.secrets(1), []);
    t.same(
      (await reg.secrets(2)).map((s) => s.sealed),
      ['other'],
      "another server's untouched",
    );
  });

  fresh('an httpdid is stored once', async (t, reg) => {
    t.ok(await reg.insertServer(newServer(1, 'acme')));
    await t.rejects(reg.insertServer(newServer(1, 'acme', { source: 'again' })), 'a second row with the same httpdid is refused');
    t.match(await reg.servers(), [{ httpdid: 1, source: 'v1 of 1' }], 'the first one is kept');
  });

  fresh('a name is unique per tenant, kept with its row, and optional', async (t, reg) => {
    t.ok(await reg.insertServer(newServer(1, 'acme', { name: 'hello' })));
    await t.rejects(reg.insertServer(newServer(2, 'acme', { name: 'hello' })), { code: 'ISO_ERR_API_NAME_TAKEN' }, 'a second server of that name of the same tenant is refused');
    t.ok(await reg.insertServer(newServer(3, 'other', { name: 'hello' })), 'another tenant may use the same name');
    t.ok(await reg.insertServer(newServer(4, 'acme')), 'no name');
    t.ok(await reg.insertServer(newServer(5, 'acme', { name: null })), 'a second server without a name');
    t.match(await reg.servers(), [
      { httpdid: 1, tenant: 'acme', name: 'hello' },
      { httpdid: 3, tenant: 'other', name: 'hello' },
      { httpdid: 4, name: null },
      { httpdid: 5, name: null },
    ]);
    await reg.deleteServer(1);
    t.ok(await reg.insertServer(newServer(6, 'acme', { name: 'hello' })), 'free again once the server is deleted');
  });

  fresh('versions: version 1 kept at insert, each update kept, the oldest dropped beyond keepVersions, all gone with the server', async (t, reg) => {
    const limits = resolveLimits({ memoryMb: 32 });
    await reg.insertServer(newServer(7, 'acme', { source: 's1', limits }));
    t.match(await reg.versions(7), [{ httpdid: 7, version: 1, source: 's1', exposeErrors: false, createdAt: CREATED_AT }]);
    t.same((await reg.versions(7))[0]?.limits, limits);
    await reg.updateServer(7, { source: 's2', version: 2 });
    await reg.updateServer(7, { exposeErrors: true, version: 3, keepVersions: 2 });
    const kept = await reg.versions(7);
    t.same(
      kept.map((v) => [v.version, v.source, v.exposeErrors]),
      [
        [3, 's2', true],
        [2, 's2', false],
      ],
      'newest first, the full content of each, two kept',
    );
    t.same(await reg.versions(99), [], 'none for a missing server');
    await reg.deleteServer(7);
    t.same(await reg.versions(7), [], 'deleted with the server');
  });

  fresh('updateServer records a redeploy: source, limits or both, the version and updatedAt', async (t, reg) => {
    const limits = resolveLimits({ memoryMb: 32 });
    await reg.insertServer(newServer(2, 'acme', { source: 'v1', limits }));
    const updated = await reg.updateServer(2, { source: 'v2', version: 2 });
    t.match(updated, { httpdid: 2, source: 'v2', version: 2, createdAt: CREATED_AT });
    t.same(updated?.limits, limits, 'limits kept when only the source changes');
    t.not(updated?.updatedAt, CREATED_AT, 'updatedAt changes');
    t.ok(updated !== undefined && !Number.isNaN(Date.parse(updated.updatedAt)), 'updatedAt is a time');
    const l2 = resolveLimits({ memoryMb: 16 });
    const second = await reg.updateServer(2, { limits: l2, version: 3 });
    t.match(second, { source: 'v2', version: 3 }, 'limits alone');
    t.same(second?.limits, l2);
    const l3 = resolveLimits({ memoryMb: 8 });
    const third = await reg.updateServer(2, { source: 'v4', limits: l3, version: 4 });
    t.match(third, { source: 'v4', version: 4 }, 'both');
    t.same(third?.limits, l3);
    t.same(await reg.servers(), [third], 'what servers() reads is what updateServer returned');
    t.equal(await reg.updateServer(99, { source: 'x', version: 2 }), undefined, 'no such server');
    t.equal((await reg.servers()).length, 1, 'nothing created for a missing server');
  });

  fresh('updateServer records exposeErrors: set, kept when absent, cleared', async (t, reg) => {
    await reg.insertServer(newServer(2, 'acme'));
    const on = await reg.updateServer(2, { exposeErrors: true, version: 2 });
    t.match(on, { exposeErrors: true, source: 'v1 of 2', version: 2 }, 'turned on alone');
    const kept = await reg.updateServer(2, { source: 'v3', version: 3 });
    t.match(kept, { exposeErrors: true, source: 'v3' }, 'kept when a change does not name it');
    const off = await reg.updateServer(2, { exposeErrors: false, version: 4 });
    t.equal(off?.exposeErrors, false, 'turned off');
    t.same(await reg.servers(), [off], 'what servers() reads');
  });

  fresh('setServerState marks a server failed (with why) and running again', async (t, reg) => {
    await reg.insertServer(newServer(2, 'acme'));
    await reg.setServerState(2, 'failed', 'because');
    const [failed] = await reg.serversOf('acme');
    t.match(failed, { state: 'failed', reason: 'because', version: 1 });
    t.not(failed?.updatedAt, CREATED_AT, 'updatedAt changes');
    await reg.setServerState(2, 'running', null);
    t.match(await reg.serversOf('acme'), [{ state: 'running', reason: null }]);
    await reg.setServerState(99, 'failed', 'no such server');
    t.equal((await reg.servers()).length, 1, 'a missing server is not created');
  });

  fresh('deleteServer says whether the server existed', async (t, reg) => {
    await reg.insertServer(newServer(1, 'acme'));
    await reg.insertServer(newServer(2, 'acme'));
    t.equal(await reg.deleteServer(1), true);
    t.equal(await reg.deleteServer(1), false, 'already gone');
    t.equal(await reg.deleteServer(99), false, 'never there');
    t.same(
      (await reg.servers()).map((r) => r.httpdid),
      [2],
    );
  });

  fresh('tenants: a token each, looked up by token and by name, listed by name', async (t, reg) => {
    t.equal(await reg.hasTenants(), false, 'none at first');
    t.same(await reg.tenants(), []);
    const token = await reg.addTenant('zeta', { maxServers: 5 });
    t.match(token, TOKEN, 'the token');
    t.equal(await reg.hasTenants(), true);
    const other = await reg.addTenant('alpha', { maxServers: 1, maxSourceBytes: 2048, memoryMb: 64 });
    t.not(other, token, 'tokens differ');
    await reg.addTenant('mid');
    t.match(await reg.tenantByToken(token), { name: 'zeta', quotas: { maxServers: 5 } });
    t.same((await reg.tenantByToken(token))?.quotas, { maxServers: 5 }, 'only the overrides given');
    t.same((await reg.tenantByToken(other))?.quotas, { maxServers: 1, maxSourceBytes: 2048, memoryMb: 64 }, 'every override');
    t.equal(await reg.tenantByToken(`${token}x`), undefined, 'a wrong token');
    t.equal(await reg.tenantByToken(''), undefined, 'an empty token');
    const mid = await reg.tenant('mid');
    t.match(mid, { name: 'mid' });
    t.same(mid?.quotas, {}, 'no overrides');
    t.ok(mid !== undefined && !Number.isNaN(Date.parse(mid.createdAt)), 'createdAt is a time');
    t.equal(await reg.tenant('nobody'), undefined);
    t.same(
      (await reg.tenants()).map((r) => r.name),
      ['alpha', 'mid', 'zeta'],
      'by name',
    );
  });

  fresh('addTenant refuses a taken or invalid name (rejecting, not throwing)', async (t, reg) => {
    await reg.addTenant('acme');
    const taken = reg.addTenant('acme');
    t.ok(taken instanceof Promise, 'a promise, even for a refusal');
    await t.rejects(taken, /tenant "acme" already exists/);
    await t.rejects(reg.addTenant('-x'), /invalid tenant name/);
    await t.rejects(reg.addTenant(''), /invalid tenant name/);
    await t.rejects(reg.addTenant('A'), /invalid tenant name/);
    await t.rejects(reg.addTenant('x'.repeat(64)), /invalid tenant name/);
    t.ok(await reg.addTenant('x'.repeat(63)), '63 characters are allowed');
    t.same(
      (await reg.tenants()).map((r) => r.name),
      ['acme', 'x'.repeat(63)],
      'nothing stored by a refusal',
    );
  });

  fresh('once tenants exist, a server is stored only for one of them', async (t, reg) => {
    await reg.addTenant('acme');
    t.equal(await reg.insertServer(newServer(7, 'gone')), false, 'not stored for a tenant that does not exist');
    t.equal(await reg.insertServer(newServer(8, 'acme')), true, 'stored for one that does');
    t.same(
      (await reg.servers()).map((r) => r.httpdid),
      [8],
    );
  });

  fresh('removeTenant: refused while it has servers, then removed, then missing', async (t, reg) => {
    const token = await reg.addTenant('acme');
    await reg.addTenant('other');
    await reg.insertServer(newServer(3, 'acme'));
    await reg.insertServer(newServer(2, 'acme'));
    await reg.insertServer(newServer(4, 'other'));
    t.same(await reg.removeTenant('acme'), { removed: false, servers: [2, 3] }, 'refused, with its servers in httpdid order');
    t.match(await reg.tenantByToken(token), { name: 'acme' }, 'nothing was removed');
    t.ok(await reg.deleteServer(2));
    t.ok(await reg.deleteServer(3));
    t.same(await reg.removeTenant('acme'), { removed: true });
    t.equal(await reg.tenantByToken(token), undefined, 'its token stops working');
    t.equal(await reg.tenant('acme'), undefined);
    t.same(await reg.removeTenant('acme'), { removed: false, missing: true });
    t.same(await reg.removeTenant('never'), { removed: false, missing: true });
    t.same(
      (await reg.tenants()).map((r) => r.name),
      ['other'],
    );
    t.equal(await reg.hasTenants(), true);
    await reg.deleteServer(4);
    t.same(await reg.removeTenant('other'), { removed: true });
    t.equal(await reg.hasTenants(), false, 'none left: the open default tenant may apply again');
  });

  fresh('a creation racing the removal of its tenant: either the server or the tenant, never a server without a tenant', async (t, reg) => {
    await reg.addTenant('acme');
    await reg.addTenant('keep');
    const [stored, removal] = await Promise.all([reg.insertServer(newServer(1, 'acme')), reg.removeTenant('acme')]);
    const servers = await reg.servers();
    const tenant = await reg.tenant('acme');
    if (stored) {
      t.same(removal, { removed: false, servers: [1] }, 'the server was first: the removal is refused');
      t.ok(tenant !== undefined);
    } else {
      t.same(removal, { removed: true }, 'the removal was first: the server is not stored');
      t.same(servers, []);
    }
    t.ok(
      servers.every((s) => s.tenant !== 'acme' || tenant !== undefined),
      'no server without its tenant',
    );
  });

  fresh("insertServer with an admission: it sees the servers on the same host and port (hostnames parsed), the count of the tenant's servers and the memory of its running ones", async (t, reg) => {
    const def = resolveLimits({});
    t.ok(await reg.insertServer(newServer(1, 'acme', { port: 6000, hostnames: ['api.example.com', '*.example.com'], replicas: 2, limits: resolveLimits({ memoryMb: 32, isolates: 2 }) })));
    t.ok(await reg.insertServer(newServer(2, 'other', { port: 6000, state: 'failed', reason: 'because' })));
    t.ok(await reg.insertServer(newServer(3, 'acme', { port: 6001, replicas: 3, limits: resolveLimits({ memoryMb: 16 }) })));
    t.ok(await reg.insertServer(newServer(4, 'acme', { host: '127.0.0.2', port: 6000, state: 'failed', reason: 'because', limits: resolveLimits({ memoryMb: 128 }) })));
    t.ok(await reg.insertServer(newServer(5, 'other', { host: '127.0.0.2', port: 6000, replicas: 2 })));

    const first = recorder();
    t.equal(await reg.insertServer(newServer(6, 'acme', { port: 6000, hostnames: ['www.example.com'] }), first.admit), true, 'admitted: stored');
    t.same(
      first.seen,
      [
        {
          sameAddress: [
            { httpdid: 1, tenant: 'acme', hostnames: ['api.example.com', '*.example.com'], replicas: 2 },
            { httpdid: 2, tenant: 'other', hostnames: [], replicas: 1 },
          ],
          tenantServers: 3,
          tenantMemoryMb: 32 * 2 * 2 + 16 * 1 * 3,
        },
      ],
      'called once: both tenants on 127.0.0.1:6000 (the failed one too), not :6001 nor 127.0.0.2:6000; three acme servers (the failed one counted), the failed one left out of the memory',
    );
    t.same(
      (await reg.servers()).map((s) => s.httpdid),
      [1, 2, 3, 4, 5, 6],
    );
    t.match(await reg.versions(6), [{ version: 1 }], 'its version 1 kept');

    const second = recorder();
    t.ok(await reg.insertServer(newServer(7, 'other', { host: '127.0.0.2', port: 6000 }), second.admit));
    t.same(
      second.seen,
      [
        {
          sameAddress: [
            { httpdid: 4, tenant: 'acme', hostnames: [], replicas: 1 },
            { httpdid: 5, tenant: 'other', hostnames: [], replicas: 2 },
          ],
          tenantServers: 2,
          tenantMemoryMb: def.memoryMb * def.isolates * 2,
        },
      ],
      'another address and tenant: the failed server 2 counted, not its memory',
    );

    const third = recorder();
    t.ok(await reg.insertServer(newServer(8, 'new', { host: 'localhost', port: 6000 }), third.admit));
    t.same(third.seen, [{ sameAddress: [], tenantServers: 0, tenantMemoryMb: 0 }], 'the host string as given (localhost is not 127.0.0.1); a tenant without servers');
  });

  fresh('insertServer with an admission that throws: rejected with that very error, nothing stored, no version kept', async (t, reg) => {
    t.ok(await reg.insertServer(newServer(1, 'acme', { port: 6000 })));
    const refusal = new IsoError('ISO_ERR_API_ADDRESS_IN_USE', '127.0.0.1:6000 is in use by server 1');
    const refused = reg.insertServer(newServer(2, 'acme', { port: 6000, name: 'hello' }), () => {
      throw refusal;
    });
    t.ok(refused instanceof Promise, 'a promise, even for a refusal');
    t.equal(await outcome(refused), refusal, 'the very error the admission threw');
    await t.rejects(
      reg.insertServer(newServer(2, 'acme', { port: 6000 }), () => {
        throw refusal;
      }),
      { code: 'ISO_ERR_API_ADDRESS_IN_USE', message: '127.0.0.1:6000 is in use by server 1' },
    );
    t.same(
      (await reg.servers()).map((s) => s.httpdid),
      [1],
      'not stored',
    );
    t.same(await reg.versions(2), [], 'no version row');
    t.ok(await reg.insertServer(newServer(2, 'acme', { port: 6000, name: 'hello' })), 'rolled back: the httpdid and the name are free, and the registry writes on');
    t.match(await reg.versions(2), [{ httpdid: 2, version: 1 }]);
  });

  fresh('updateServer with an admission: it sees the state without the server itself; a refusal leaves the row and its versions; a missing server is undefined without a call', async (t, reg) => {
    t.ok(await reg.insertServer(newServer(1, 'acme', { port: 6000, hostnames: ['a.example.com'], replicas: 2, limits: resolveLimits({ memoryMb: 16 }) })));
    t.ok(await reg.insertServer(newServer(2, 'other', { port: 6000, hostnames: ['b.example.com'] })));
    t.ok(await reg.insertServer(newServer(3, 'acme', { port: 6001, limits: resolveLimits({ memoryMb: 8, isolates: 2 }) })));
    t.ok(await reg.insertServer(newServer(4, 'acme', { port: 6002, state: 'failed', reason: 'because' })));

    const one = recorder();
    const v2 = await reg.updateServer(1, { source: 'v2', limits: resolveLimits({ memoryMb: 32 }), version: 2 }, one.admit);
    t.match(v2, { httpdid: 1, source: 'v2', version: 2 }, 'admitted: updated');
    t.same(
      one.seen,
      [{ sameAddress: [{ httpdid: 2, tenant: 'other', hostnames: ['b.example.com'], replicas: 1 }], tenantServers: 2, tenantMemoryMb: 8 * 2 }],
      'its own address without itself; its tenant without itself (server 4 counted, not its memory)',
    );

    const three = recorder();
    t.ok(await reg.updateServer(3, { source: 'v2', version: 2 }, three.admit));
    t.same(three.seen, [{ sameAddress: [], tenantServers: 2, tenantMemoryMb: 32 * 2 }], "another server's limits as stored: server 1's new ones");

    const before = await reg.servers();
    const versionsBefore = await reg.versions(1);
    t.equal(versionsBefore.length, 2);
    const refusal = new IsoError('ISO_ERR_API_QUOTA', 'quota memoryMb of tenant "acme" exceeded');
    const refused = reg.updateServer(1, { source: 'v3', limits: resolveLimits({ memoryMb: 256 }), version: 3, keepVersions: 1 }, () => {
      throw refusal;
    });
    t.equal(await outcome(refused), refusal, 'rejected with the very error the admission threw');
    t.same(await reg.servers(), before, 'every row unchanged');
    t.same(await reg.versions(1), versionsBefore, 'its versions unchanged (none added, none dropped by keepVersions)');

    let called = false;
    const missing = await reg.updateServer(99, { source: 'x', version: 2 }, () => {
      called = true;
    });
    t.equal(missing, undefined, 'a missing server: undefined');
    t.equal(called, false, 'the admission not called');
    t.equal((await reg.servers()).length, 4, 'nothing created');
  });

  /** A subtest with a second registry on the same storage as the first (skipped where there is none). */
  const shared = (title: string, body: (t: Test, a: Registry, b: Registry) => Promise<void>): void => {
    fresh(title, async (t, a, under) => {
      if (under.openAnother === undefined) {
        t.skip(`${name} cannot open a second registry on the same storage`, async () => {});
        return;
      }
      const b = await under.openAnother();
      try {
        await body(t, a, b);
      } finally {
        await b.close();
      }
    });
  };

  shared('two registries on one storage: 50 concurrent nextHttpdid calls across them are all distinct', async (t, a, b) => {
    const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).nextHttpdid()));
    t.equal(new Set(ids).size, 50, 'fifty distinct httpdids');
    t.ok(
      ids.every((id) => Number.isSafeInteger(id) && id >= 1),
      'each a positive integer',
    );
    const next = await b.nextHttpdid();
    t.ok(
      ids.every((id) => id < next),
      'the sequence goes on past all of them',
    );
  });

  shared('two registries on one storage: concurrent creations of one name of one tenant, exactly one stored, the other ISO_ERR_API_NAME_TAKEN', async (t, a, b) => {
    await a.addTenant('acme');
    for (let round = 0; round < 10; round++) {
      const name = `hello-${round}`;
      const results = await Promise.allSettled([a.insertServer(newServer(2 * round + 1, 'acme', { name })), b.insertServer(newServer(2 * round + 2, 'acme', { name }))]);
      const stored = results.filter((r) => r.status === 'fulfilled' && r.value);
      const refused = results.filter((r) => r.status === 'rejected' && (r.reason as { code?: unknown }).code === 'ISO_ERR_API_NAME_TAKEN');
      t.equal(stored.length, 1, `round ${round}: one stored`);
      t.equal(refused.length, 1, `round ${round}: the other refused with ISO_ERR_API_NAME_TAKEN`);
    }
    const names = (await b.serversOf('acme')).map((s) => s.name);
    t.equal(names.length, 10, 'ten servers, one per name');
    t.equal(new Set(names).size, 10, 'each name once');
  });

  shared('two registries on one storage: creations racing the removal of their tenant never leave a server without its tenant', async (t, a, b) => {
    await a.addTenant('keep');
    for (let round = 0; round < 10; round++) {
      const tenant = `t${round}`;
      await a.addTenant(tenant);
      const [stored, removal] = await Promise.all([a.insertServer(newServer(round + 1, tenant)), b.removeTenant(tenant)]);
      const present = (await b.tenant(tenant)) !== undefined;
      if (stored) {
        t.same(removal, { removed: false, servers: [round + 1] }, `round ${round}: the server first, the removal refused`);
        t.ok(present, `round ${round}: the tenant kept`);
      } else {
        t.same(removal, { removed: true }, `round ${round}: the removal first, the server not stored`);
        t.notOk(present);
      }
    }
    const tenants = new Set((await a.tenants()).map((r) => r.name));
    t.ok(
      (await b.servers()).every((s) => tenants.has(s.tenant)),
      'no server without its tenant',
    );
  });

  shared('two registries on one storage: ten concurrent creations on one address, admitted only while it is free: exactly one stored, nine ISO_ERR_API_ADDRESS_IN_USE', async (t, a, b) => {
    const free: Admission = (s) => {
      if (s.sameAddress.length > 0) throw new IsoError('ISO_ERR_API_ADDRESS_IN_USE', `127.0.0.1:7000 is in use by server ${s.sameAddress.map((x) => x.httpdid).join(', ')}`);
    };
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).insertServer(newServer(i + 1, 'acme', { port: 7000 }), free)));
    t.same(
      results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
      [true],
      'exactly one fulfilled, with true',
    );
    t.same(codes(results), Array(9).fill('ISO_ERR_API_ADDRESS_IN_USE'), 'nine refused by the admission');
    const stored = (await b.servers()).filter((s) => s.host === '127.0.0.1' && s.port === 7000);
    t.equal(stored.length, 1, 'one server on the address');
    t.same(
      (await a.servers()).map((s) => s.httpdid),
      stored.map((s) => s.httpdid),
      'and no other server at all',
    );
  });

  shared('two registries on one storage: ten concurrent creations on one address, five claiming one hostname: the five others and exactly one claimant stored', async (t, a, b) => {
    /** Refuses a server whose names include one already claimed on the address. */
    const claims =
      (names: readonly string[]): Admission =>
      (s) => {
        const taken = new Set(s.sameAddress.flatMap((x) => x.hostnames));
        const clash = names.find((n) => taken.has(n));
        if (clash !== undefined) throw new IsoError('ISO_ERR_API_HOSTNAME_TAKEN', `${clash} is claimed on 127.0.0.1:7000 already`);
      };
    const hostnames = (i: number): string[] => (i % 2 === 0 ? ['shared.example.com', `s${i}.example.com`] : [`s${i}.example.com`]);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => (i % 4 < 2 ? a : b).insertServer(newServer(i + 1, 'acme', { port: 7000, hostnames: hostnames(i) }), claims(hostnames(i)))),
    );
    t.same(codes(results), Array(4).fill('ISO_ERR_API_HOSTNAME_TAKEN'), 'four claimants refused');
    const stored = await a.servers();
    t.equal(stored.length, 6, 'six stored');
    t.equal(stored.filter((s) => s.hostnames.includes('shared.example.com')).length, 1, 'one claimant of the name');
    t.same(
      stored.filter((s) => !s.hostnames.includes('shared.example.com')).map((s) => s.httpdid),
      [2, 4, 6, 8, 10],
      'every server with names of its own',
    );
  });

  shared('two registries on one storage: ten concurrent creations of one tenant admitted while it has fewer than three: exactly three stored, seven ISO_ERR_API_QUOTA', async (t, a, b) => {
    const quota: Admission = (s) => {
      if (s.tenantServers >= 3) throw new IsoError('ISO_ERR_API_QUOTA', `quota maxServers of tenant "acme" exceeded: it has ${s.tenantServers} servers, at most 3 are allowed`);
    };
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).insertServer(newServer(i + 1, 'acme'), quota)));
    t.same(
      results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
      [true, true, true],
      'exactly three fulfilled, with true',
    );
    t.same(codes(results), Array(7).fill('ISO_ERR_API_QUOTA'), 'seven refused by the admission');
    t.equal((await b.serversOf('acme')).length, 3, 'three stored');
    t.equal((await a.servers()).length, 3, 'nothing else');
  });

  shared('two registries on one storage: what one writes the other reads at once', async (t, a, b) => {
    const token = await a.addTenant('acme');
    t.match(await b.tenantByToken(token), { name: 'acme' }, 'a token added through one works through the other');
    t.ok(await b.insertServer(newServer(1, 'acme')));
    t.match(await a.updateServer(1, { source: 'v2', version: 2 }), { source: 'v2', version: 2 });
    t.match(await b.servers(), [{ httpdid: 1, source: 'v2', version: 2 }]);
    t.ok(await b.deleteServer(1));
    t.same(await a.servers(), []);
  });

  fresh('close may be called twice', async (t, reg) => {
    await reg.close();
    await reg.close();
    t.pass('closed twice');
  });

  fresh('durable: sequence, servers and tenants survive closing and opening again', async (t, reg, under) => {
    const { reopen } = under;
    if (reopen === undefined) {
      t.skip(`${name} cannot open the same storage again`, async () => {});
      return;
    }
    t.equal(await reg.nextHttpdid(), 1);
    t.equal(await reg.nextHttpdid(), 2);
    const token = await reg.addTenant('acme', { memoryMb: 64 });
    const limits = resolveLimits({ memoryMb: 16 });
    await reg.insertServer(newServer(1, 'acme', { limits }));
    await reg.insertServer(newServer(2, 'acme'));
    const updated = await reg.updateServer(1, { source: 'v2', version: 2 });
    await reg.setServerState(2, 'failed', 'because');
    const before = await reg.servers();
    t.match(before, [updated, { httpdid: 2, state: 'failed', reason: 'because' }]);
    await reg.close();

    const again = await reopen();
    try {
      t.equal(await again.nextHttpdid(), 3, 'the sequence goes on: no httpdid handed out twice');
      t.same(await again.servers(), before, 'every server as it was');
      t.match(await again.tenantByToken(token), { name: 'acme', quotas: { memoryMb: 64 } }, 'the token still works');
      t.equal(await again.hasTenants(), true);
      t.ok(await again.deleteServer(1));
      await again.addTenant('b');
    } finally {
      await again.close();
    }
    const third = await reopen();
    try {
      t.same(
        (await third.servers()).map((r) => r.httpdid),
        [2],
        'a deletion is durable',
      );
      t.same(
        (await third.tenants()).map((r) => r.name),
        ['acme', 'b'],
        'so is a tenant',
      );
      t.equal(await third.nextHttpdid(), 4);
    } finally {
      await third.close();
    }
  });
}
