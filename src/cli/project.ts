// The project file, isohttpd.json (schemas/project.json): read and validated by ajv for `isohttpd deploy` without a FILE.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Language } from '../core/language.js';
import type { Limits } from '../core/limits.js';
import { formatAjvError, validator } from '../core/schemas.js';
import { UsageError } from './args.js';

/** The name `isohttpd deploy` looks for in the current directory. */
export const PROJECT_FILE = 'isohttpd.json';

/** A project file after validation (schemas/project.json). */
export interface Project {
  readonly name: string;
  /** The handler module, as written (relative to the project file). */
  readonly entry: string;
  readonly language?: Language;
  readonly host?: string;
  readonly port?: number;
  /** Virtual hosts of the server, when it is created. */
  readonly hostnames?: readonly string[];
  readonly limits?: Partial<Limits>;
  readonly replicas?: number;
  readonly exposeErrors?: boolean;
  readonly vars?: Readonly<Record<string, string>>;
  /** The hosts the handler's outbound fetch may reach (schemas/egress.json). */
  readonly egress?: { readonly allow: readonly string[] };
}

/** A project read from disk, with its entry resolved to a path. */
export interface LoadedProject {
  readonly file: string;
  readonly project: Project;
  /** `entry`, resolved from the project file's directory. */
  readonly entryPath: string;
}

/**
 * Reads and validates a project file.
 * @throws UsageError (exit 2) when it cannot be read, is not JSON or does not match schemas/project.json: the message names the file and the field.
 */
export async function loadProject(file: string): Promise<LoadedProject> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${file}: ${e.code ?? e.message}`, false);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON: ${(err as Error).message}`, false);
  }
  const validate = validator<Project>('project');
  if (!validate(data)) throw new UsageError(`${file}: ${formatAjvError(validate.errors, 'project')}`, false);
  return { file, project: data, entryPath: path.resolve(path.dirname(file), data.entry) };
}
