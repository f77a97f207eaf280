// Service configuration: flags and environment variables, validated against schemas/config.json at start-up, then frozen.

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { formatAjvError, schemaDefaults, validator } from './schemas.js';

/** The validated, frozen configuration of one `isohttpd serve`. */
export interface Config {
  readonly apiHost: string;
  readonly apiPort: number;
  readonly dataDir: string;
  readonly allowedHosts: readonly string[];
  readonly portMin: number;
  readonly portMax: number;
  readonly maxSourceBytes: number;
  /** Sandbox worker processes (resolved: never 0). */
  readonly workers: number;
}

/** A configuration that cannot be used; its message says which option and why. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const FLAG_TO_KEY = { 'api-host': 'apiHost', 'api-port': 'apiPort', 'data-dir': 'dataDir', workers: 'workers' } as const;
const ENV_TO_KEY = { ISOHTTPD_API_HOST: 'apiHost', ISOHTTPD_API_PORT: 'apiPort', ISOHTTPD_DATA_DIR: 'dataDir', ISOHTTPD_WORKERS: 'workers' } as const;
const INTEGER_KEYS = new Set(['apiPort', 'workers']);

function coerce(key: string, raw: string, from: string): unknown {
  if (!INTEGER_KEYS.has(key)) return raw;
  if (!/^\d{1,10}$/.test(raw)) throw new ConfigError(`${from} must be a whole number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/**
 * Builds the configuration from command-line flags (`--api-host`, `--api-port`, `--data-dir`),
 * then environment variables, then the schema defaults. Flags win over the environment.
 * @throws ConfigError naming the offending flag or variable.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        'api-host': { type: 'string' },
        'api-port': { type: 'string' },
        'data-dir': { type: 'string' },
        workers: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const raw: Record<string, unknown> = schemaDefaults('config');
  for (const [name, key] of Object.entries(ENV_TO_KEY)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = coerce(key, value, name);
  }
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    const value = parsed.values[flag as keyof typeof FLAG_TO_KEY];
    if (value !== undefined) raw[key] = coerce(key, value, `--${flag}`);
  }
  const validate = validator<Config>('config');
  if (!validate(raw)) throw new ConfigError(formatAjvError(validate.errors, 'config'));
  if (raw.portMin > raw.portMax) throw new ConfigError('config.portMin must not be greater than config.portMax');
  const workers = raw.workers === 0 ? Math.min(availableParallelism(), 64) : raw.workers;
  return Object.freeze({ ...raw, workers, allowedHosts: Object.freeze([...raw.allowedHosts]) });
}
