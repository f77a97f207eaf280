// The languages a handler source may be written in (schemas/create-server.json `language`), shared by the API, the registry and the CLI.

/** javascript, or typescript (stripped of its types before it runs: src/api/control/typescript.ts). */
export type Language = 'javascript' | 'typescript';

/** The language of a handler file by its name: `.ts`, `.mts` and `.cts` are TypeScript, anything else JavaScript. */
export function languageOfFile(file: string): Language {
  return /\.[cm]?ts$/i.test(file) ? 'typescript' : 'javascript';
}
