// The smallest isohttpd handler in TypeScript: the types are erased before it runs (deploy with `language: "typescript"`, or `isohttpd deploy hello.ts`).
import type { Env, RequestDict, ResponseDict } from '../types/isohttpd.js';

// `env`: the server's variables and secrets (e.g. `vars: { GREETING: "Hi" }`), frozen.
export default function handler(request: RequestDict, env: Env): ResponseDict {
  const greeting: string = `${env['GREETING'] ?? 'Hello'} from isohttpd in TypeScript! You asked for ${request.path}\n`;
  return { version: '1.1', statuscode: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, message: greeting };
}
