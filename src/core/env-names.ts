// The names and sizes of a server's variables and secrets, as schemas/ declares them (vars.json, put-secret.json `value`), for the routes and the CLI that check them too.

import { loadSchema } from './schemas.js';

interface VarsSchema {
  readonly propertyNames: { readonly pattern: string };
}
interface SecretSchema {
  readonly properties: { readonly value: { readonly maxLength: number } };
}

/** What a variable's or secret's name must match (a letter or `_`, then letters, digits or `_`, at most 64). */
export const ENV_NAME_PATTERN: string = (loadSchema('vars') as unknown as VarsSchema).propertyNames.pattern;

/** The longest value of a secret, characters. */
export const MAX_SECRET_CHARS: number = (loadSchema('put-secret') as unknown as SecretSchema).properties.value.maxLength;
