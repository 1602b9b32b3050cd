// How shared primitives travel: each handle carries its core's wire form, made and revived by the core's provider.
import type { SharedCore } from './core.ts';
import { type CoreWire, isRealCore, reduceCore, reviveCore } from './provider.ts';
import './providers.ts';
import { noteReducible, registerReviver } from '../reduction/values.ts';

export { reduceCore, reviveCore, isRealCore };
export type { CoreProvider, CoreWire } from './provider.ts';

/** What a primitive's handle carries for its core (its provider's wire form). */
export type CoreHandle = CoreWire;

/**
 * Notes that a primitive exists (so argument encoding looks for handles) and returns its core.
 * @example
 * this.#core = markLocal(new MutexCore('Lock', MutexCore.fresh()))
 */
export function markLocal<C extends SharedCore>(core: C): C {
  noteReducible();
  return core;
}

/**
 * Registers the reviver of a primitive's handle `{ core, ... }`.
 * @example
 * registerPrimitive('sync:Lock', (core) => adoptLock(core))
 */
export function registerPrimitive<S extends { core: CoreHandle }>(
  kind: string,
  adopt: (core: SharedCore, state: S) => unknown,
): void {
  registerReviver(kind, (state: S) => {
    noteReducible();
    return adopt(reviveCore(state.core), state);
  });
}
