// The languages a handler source may be written in (schemas/create-server.json `language`), shared by the API, the registry and the CLI.

/** javascript, or typescript (stripped of its types before it runs: src/api/control/typescript.ts). */
export type Language = 'javascript' | 'typescript';

/** The language of a handler file by its name: `.ts`, `.mts` and `.cts` are TypeScript, anything else JavaScript. */
export function languageOfFile(file: string): Language {
  return /\.[cm]?ts$/i.test(file) ? 'typescript' : 'javascript';
}

/**
 * A stack as the tenant is shown it: frames of its module are named `handler.js` inside the
 * isolate; a TypeScript source's are renamed `handler.ts` (its types were stripped to whitespace,
 * so lines and columns are the `.ts` file's own, and no source map is needed).
 */
export function tenantStack(stack: string, language: Language): string {
  return language === 'typescript' ? stack.replaceAll('handler.js:', 'handler.ts:') : stack;
}
