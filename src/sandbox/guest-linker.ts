// The guest modules of one isolate: each compiled (from the code cache when it can be) once, on first import, and linked to the others by the specifiers their source uses.

import type ivm from 'isolated-vm';
import { compileCached } from './code-cache.js';
import { bundleGuest } from './guest-bundle.js';
import { CONSTANTS_SPECIFIER, type ConstantLimits, constantsSource, type GuestPath, guestFilename, guestSource, PRELUDE, resolveGuest } from './guest-source.js';

/** The prelude as one module (src/sandbox/guest-bundle.ts), joined once when this module loads: what isolates compile for `prelude/index.js`. */
const PRELUDE_BUNDLE = bundleGuest(PRELUDE);

/** A guest module or the constants module. */
type GuestId = GuestPath | typeof CONSTANTS_SPECIFIER;

/**
 * Compiles the guest modules into one isolate as they are needed and resolves their imports. It
 * resolves only guest modules and the constants module: anything else is refused.
 */
export class GuestLinker {
  readonly #isolate: ivm.Isolate;
  readonly #constants: string;
  readonly #modules = new Map<GuestId, Promise<ivm.Module>>();
  readonly #paths = new Map<ivm.Module, GuestId>();

  /** @param limits the server's limits the constants module carries */
  constructor(isolate: ivm.Isolate, limits: ConstantLimits) {
    this.#isolate = isolate;
    this.#constants = constantsSource(limits);
  }

  /** The module at `id` in this isolate, compiled on first use. */
  module(id: GuestId): Promise<ivm.Module> {
    let mod = this.#modules.get(id);
    if (mod === undefined) {
      const code = id === CONSTANTS_SPECIFIER ? this.#constants : id === PRELUDE ? PRELUDE_BUNDLE : guestSource(id);
      mod = compileCached(this.#isolate, code, guestFilename(id)).then((m) => {
        this.#paths.set(m, id);
        return m;
      });
      this.#modules.set(id, mod);
    }
    return mod;
  }

  /**
   * An `instantiate` resolve callback: the guest module `specifier` names from `referrer` (from the
   * guest folder's root when the referrer is not a guest module).
   * @throws Error for a specifier that names no guest module
   */
  readonly resolve = (specifier: string, referrer: ivm.Module): Promise<ivm.Module> => {
    const from = this.#paths.get(referrer);
    const id = resolveGuest(specifier, from === CONSTANTS_SPECIFIER ? undefined : from);
    if (id === null) return Promise.reject(new Error(`no guest module ${JSON.stringify(specifier)}`));
    return this.module(id);
  };
}
