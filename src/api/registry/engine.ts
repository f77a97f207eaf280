// Which registry engine a `registry` setting names (a postgres:// URL, or empty for SQLite in the data dir), and that setting fit to print (no password).

/** The registry engines. */
export type RegistryEngine = 'sqlite' | 'postgres';

/** The engine a `registry` setting names: '' is SQLite in the data dir, `postgres://`/`postgresql://` PostgreSQL; undefined for anything else. */
export function registryEngine(setting: string): RegistryEngine | undefined {
  if (setting === '') return 'sqlite';
  if (/^postgres(ql)?:\/\//i.test(setting)) return 'postgres';
  return undefined;
}

/** A URL with its password replaced by `***` (for messages and logs); anything not a URL as it is. */
export function redactUrl(setting: string): string {
  try {
    const u = new URL(setting);
    if (u.password === '') return setting;
    u.password = '***';
    return u.toString();
  } catch {
    return setting;
  }
}
