// Loads the JSON Schemas in schemas/ (the one source of truth), compiles them with ajv and formats ajv errors for people.

import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** The schema files in `schemas/`, by name. */
export type SchemaName =
  | 'limits'
  | 'config'
  | 'create-server'
  | 'update-server'
  | 'server'
  | 'error'
  | 'response-dict'
  | 'log-entry'
  | 'project'
  | 'server-version'
  | 'rollback-server'
  | 'tail-entry'
  | 'put-secret'
  | 'secret-list'
  | 'vars'
  | 'hostnames'
  | 'egress';

const SCHEMA_NAMES: readonly SchemaName[] = [
  'limits',
  'config',
  'create-server',
  'update-server',
  'server',
  'error',
  'response-dict',
  'log-entry',
  'project',
  'server-version',
  'rollback-server',
  'tail-entry',
  'put-secret',
  'secret-list',
  'vars',
  'hostnames',
  'egress',
];
const SCHEMA_DIR = new URL('../../schemas/', import.meta.url);

/** A JSON Schema object as read from disk. */
export type JsonSchema = Record<string, unknown> & { $id: string };

const cache = new Map<SchemaName, JsonSchema>();

/** Reads (once) and returns one schema from `schemas/`. */
export function loadSchema(name: SchemaName): JsonSchema {
  let schema = cache.get(name);
  if (schema === undefined) {
    schema = JSON.parse(readFileSync(new URL(`${name}.json`, SCHEMA_DIR), 'utf8')) as JsonSchema;
    cache.set(name, schema);
  }
  return schema;
}

/** Every schema, for registering with fastify or another ajv instance. */
export function allSchemas(): JsonSchema[] {
  return SCHEMA_NAMES.map(loadSchema);
}

/** The ajv options used everywhere: nothing coerced, nothing removed, every schema strict. */
export const AJV_OPTIONS = Object.freeze({
  allErrors: false,
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: false,
  verbose: true,
  strict: true,
  allowUnionTypes: true,
} as const);

let shared: Ajv | undefined;

/** A compiled validator for one schema (compiled once per process). */
export function validator<T>(name: SchemaName): ValidateFunction<T> {
  if (shared === undefined) {
    shared = new Ajv({ ...AJV_OPTIONS });
    for (const schema of allSchemas()) shared.addSchema(schema);
  }
  const fn = shared.getSchema<T>(loadSchema(name).$id);
  if (fn === undefined) throw new Error(`schema ${name} did not compile`);
  return fn;
}

/** The `default` of every property of an object schema, e.g. the limit defaults. */
export function schemaDefaults(name: SchemaName): Record<string, unknown> {
  const props = loadSchema(name)['properties'] as Record<string, { default?: unknown }> | undefined;
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(props ?? {})) {
    if (prop.default !== undefined) out[key] = structuredClone(prop.default);
  }
  return out;
}

function jsonPath(root: string, instancePath: string): string {
  if (instancePath === '') return root;
  return (
    root +
    instancePath
      .split('/')
      .slice(1)
      .map((seg) => {
        const key = seg.replace(/~1/g, '/').replace(/~0/g, '~');
        return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
      })
      .join('')
  );
}

/**
 * Turns the first ajv error into one sentence that names the failing field, e.g.
 * `body.port must be an integer` or `response.headers has an invalid field name "a b"`.
 * Names and values from the input are JSON-quoted, so control characters never pass through raw.
 */
export function formatAjvError(errors: readonly ErrorObject[] | null | undefined, root: string): string {
  const err = errors?.[0];
  if (err === undefined) return `${root} is invalid`;
  const at = jsonPath(root, err.instancePath);
  const params = err.params as Record<string, unknown>;
  const described = (err.parentSchema as { description?: unknown } | undefined)?.description;
  switch (err.keyword) {
    case 'required':
      return `${at}.${String(params['missingProperty'])} is required`;
    case 'additionalProperties':
      return `${at}.${String(params['additionalProperty'])} is not an allowed field`;
    case 'type': {
      const t = params['type'];
      const list = Array.isArray(t) ? t.join(' or ') : String(t);
      return `${at} must be ${/^[aeiou]/.test(list) ? 'an' : 'a'} ${list}`;
    }
    case 'enum':
      return `${at} must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
      return `${at} ${err.message ?? 'is out of range'}`;
    case 'pattern':
      if (err.propertyName !== undefined) {
        return `${at} has an invalid field name ${JSON.stringify(err.propertyName)}: ${typeof described === 'string' ? described : 'does not match the pattern'}`;
      }
      return `${at} ${typeof described === 'string' ? described : 'has an invalid format'}`;
    case 'propertyNames':
      return `${at} has an invalid field name ${JSON.stringify(params['propertyName'])}`;
    default:
      return `${at} ${err.message ?? 'is invalid'}`;
  }
}
