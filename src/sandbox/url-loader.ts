// Host side of the tenant's lazy `URL`: reads the whatwg-url bundle once per worker and hands the prelude a loader that returns its text on first use.

import { readFileSync } from 'node:fs';
import ivm from 'isolated-vm';

/** Where `npm run build` (scripts/build-url-bundle.mjs) writes the bundle, next to this file in `dist/`. */
const BUNDLE_URL = new URL('./whatwg-url.bundle.js', import.meta.url);

/**
 * The bundle's text, read when this module loads (before the worker drops its privileges), or the
 * reason it is missing. One copy per worker process; an isolate receives it only when its tenant
 * first constructs a `URL` (or calls `URL.canParse` / `URL.parse`).
 */
const bundle: { readonly text: string } | { readonly missing: string } = (() => {
  try {
    return { text: readFileSync(BUNDLE_URL, 'utf8') };
  } catch (err) {
    return { missing: `URL is unavailable: its bundle was not built (${(err as Error).message}); run npm run build` };
  }
})();

/** The host function behind the loader: returns the bundle text (a string, copied into the isolate). */
function loadUrlSource(): string {
  if ('missing' in bundle) throw new Error(bundle.missing);
  return bundle.text;
}

/**
 * Gives an evaluated prelude module its URL loader: a `Reference` to {@link loadUrlSource} that the
 * prelude keeps in its module scope (never exported, never reachable from tenant code) and calls
 * with `applySync` the first time the isolate needs the parser. The call only returns a string; the
 * bundle is compiled and evaluated inside the isolate, in the tenant's realm and under its limits.
 * @param prelude the prelude module, already evaluated
 * @param timeoutMs time limit for the call that installs it, ms
 */
export async function installUrlLoader(prelude: ivm.Module, timeoutMs: number): Promise<void> {
  const set = (await prelude.namespace.get('setUrlLoader', { reference: true })) as ivm.Reference<(r: unknown) => void>;
  await set.apply(undefined, [new ivm.Reference(loadUrlSource)], { timeout: timeoutMs });
}
