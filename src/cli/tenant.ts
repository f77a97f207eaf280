// `isohttpd tenant add|ls|rm`: manages tenants and their tokens directly in the registry (the data dir's SQLite, or PostgreSQL with --registry; a running service sees the change at once).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { QuotaOverrides, Registry, TenantRow } from '../api/registry/registry.js';
import { openRegistry, RegistryOpenError } from '../api/registry/open.js';
import { DB_FILE } from '../api/registry/sqlite.js';
import { schemaDefaults } from '../core/schemas.js';

/** Usage of the tenant commands. */
export const TENANT_USAGE = `usage: isohttpd tenant add NAME [--max-servers N] [--max-source-bytes B] [--memory-mb M] [--data-dir D | --registry URL]
       isohttpd tenant ls [--json] [--data-dir D | --registry URL]
       isohttpd tenant rm NAME [--data-dir D | --registry URL]

  add   creates a tenant and prints its bearer token on stdout, once (only a hash is kept)
  ls    lists tenants, their servers and quota overrides
  rm    removes a tenant (its token stops working at once); refused while it has servers
  --data-dir D   state directory (env ISOHTTPD_DATA_DIR, default ./data), as for \`isohttpd serve\`
  --registry URL a PostgreSQL registry (env ISOHTTPD_REGISTRY_URL), as for \`isohttpd serve\`; default the data dir's SQLite
`;

function fail(message: string, code: number): number {
  process.stderr.write(`isohttpd: ${message}\n`);
  return code;
}

function quotaFlag(values: Record<string, unknown>, flag: string): number | undefined {
  const v = values[flag];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{1,10}$/.test(v)) throw new Error(`--${flag} must be a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Runs `isohttpd tenant …`; resolves to the exit code (0 done, 1 refused or not found, 2 usage). */
export async function tenantCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        'data-dir': { type: 'string' },
        registry: { type: 'string' },
        'max-servers': { type: 'string' },
        'max-source-bytes': { type: 'string' },
        'memory-mb': { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n${TENANT_USAGE}`, 2);
  }
  const [sub, name, ...extra] = parsed.positionals;
  if (sub === undefined || extra.length > 0 || !['add', 'ls', 'rm'].includes(sub) || (sub !== 'ls' && name === undefined) || (sub === 'ls' && name !== undefined)) {
    return fail(`bad tenant command\n${TENANT_USAGE}`, 2);
  }
  let quotas: QuotaOverrides = {};
  try {
    const q = {
      maxServers: quotaFlag(parsed.values, 'max-servers'),
      maxSourceBytes: quotaFlag(parsed.values, 'max-source-bytes'),
      memoryMb: quotaFlag(parsed.values, 'memory-mb'),
    };
    quotas = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as QuotaOverrides;
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  if (sub !== 'add' && Object.keys(quotas).length > 0) return fail('quota options apply to `tenant add` only', 2);
  const envDir = env['ISOHTTPD_DATA_DIR'];
  const dataDir = path.resolve(parsed.values['data-dir'] ?? (envDir !== undefined && envDir !== '' ? envDir : String(schemaDefaults('config')['dataDir'])));
  const envRegistry = env['ISOHTTPD_REGISTRY_URL'];
  const registryUrl = parsed.values.registry ?? (envRegistry !== undefined && envRegistry !== '' ? envRegistry : '');
  const fresh = registryUrl === '' && !existsSync(path.join(dataDir, DB_FILE));
  let registry: Registry;
  try {
    registry = await openRegistry({ registry: registryUrl, dataDir });
  } catch (err) {
    if (err instanceof RegistryOpenError) return fail(err.message, 2);
    throw err;
  }
  // A data dir without a registry is most often a typo, or not the one the service runs on.
  if (fresh)
    process.stderr.write(
      `isohttpd: note: ${dataDir} held no registry; a new one was made there. A running service uses the data dir it was started with (npm start: ./data; --data-dir or ISOHTTPD_DATA_DIR otherwise)\n`,
    );
  try {
    if (sub === 'add' && name !== undefined) {
      let token: string;
      try {
        token = await registry.addTenant(name, quotas);
      } catch (err) {
        return fail((err as Error).message, 1);
      }
      process.stderr.write(`isohttpd: tenant ${JSON.stringify(name)} added; its token follows (shown only this once):\n`);
      process.stdout.write(`${token}\n`);
      return 0;
    }
    if (sub === 'rm' && name !== undefined) {
      const r = await registry.removeTenant(name);
      if (r.removed) {
        process.stdout.write(`tenant ${JSON.stringify(name)} removed\n`);
        return 0;
      }
      if ('missing' in r) return fail(`no tenant ${JSON.stringify(name)}`, 1);
      return fail(`tenant ${JSON.stringify(name)} still has servers (httpdid ${r.servers.join(', ')}); delete them first with its token (DELETE /servers/:httpdid)`, 1);
    }
    const rows: Array<TenantRow & { servers: number }> = [];
    for (const t of await registry.tenants()) rows.push({ ...t, servers: (await registry.serversOf(t.name)).length });
    if (parsed.values.json === true) {
      process.stdout.write(`${JSON.stringify({ tenants: rows })}\n`);
      return 0;
    }
    const table = [
      ['NAME', 'SERVERS', 'CREATED', 'QUOTA OVERRIDES'],
      ...rows.map((t) => [
        t.name,
        String(t.servers),
        t.createdAt,
        Object.entries(t.quotas)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || '-',
      ]),
    ];
    const widths = table[0]?.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length))) ?? [];
    for (const r of table)
      process.stdout.write(
        `${r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
      );
    return 0;
  } finally {
    await registry.close();
  }
}
