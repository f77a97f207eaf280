// Opens the registry a configuration names: SQLite in the data dir by default, PostgreSQL for a postgres:// URL (`--registry`, `ISOHTTPD_REGISTRY_URL`); used by `serve` and `isohttpd tenant …`.

import path from 'node:path';
import { redactUrl, registryEngine } from './engine.js';
import type { Registry } from './registry.js';

/** What {@link openRegistry} needs of the configuration. */
export interface RegistrySettings {
  /** A `postgres://`/`postgresql://` URL, or '' for SQLite in `dataDir`. */
  readonly registry: string;
  /** The data dir (the SQLite database's directory). */
  readonly dataDir: string;
  /** Connections of a PostgreSQL registry's pool, count (default 10). */
  readonly registryPoolSize?: number;
}

/** A registry that cannot be opened: an unknown scheme, or a database that cannot be reached; its message says which and why (never a password). */
export class RegistryOpenError extends Error {
  override name = 'RegistryOpenError';
}

/** Where the registry is, fit to print: the URL without its password, or the SQLite file. */
export function describeRegistry(settings: RegistrySettings): string {
  return settings.registry === '' ? `SQLite in ${path.resolve(settings.dataDir)}` : `PostgreSQL ${redactUrl(settings.registry)}`;
}

/**
 * Opens (creating and migrating if needed) the registry `settings` name. The engine's module is
 * loaded only when it is used.
 * @throws RegistryOpenError for a scheme that is no engine's, or a PostgreSQL database that cannot be reached or migrated.
 */
export async function openRegistry(settings: RegistrySettings): Promise<Registry> {
  const engine = registryEngine(settings.registry);
  if (engine === undefined)
    throw new RegistryOpenError(`registry ${JSON.stringify(redactUrl(settings.registry))} is not a registry: give a postgres:// or postgresql:// URL, or nothing for SQLite in the data dir`);
  if (engine === 'sqlite') {
    const { SqliteRegistry } = await import('./sqlite.js');
    return SqliteRegistry.open(path.resolve(settings.dataDir));
  }
  const { PostgresRegistry } = await import('./postgres.js');
  try {
    return await PostgresRegistry.open(settings.registry, settings.registryPoolSize === undefined ? {} : { poolSize: settings.registryPoolSize });
  } catch (err) {
    throw new RegistryOpenError(`the registry ${redactUrl(settings.registry)} cannot be opened: ${(err as Error).message}`);
  }
}
