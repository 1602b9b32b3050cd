// How shared primitives travel: each handle carries its core's wire form (src/shared/remote.ts).
import type { SharedCore } from '../shared/core.ts';
import { isRemoteCore, reduceCore, reviveCore, type CoreWire } from '../shared/remote.ts';
import { noteReducible, registerReviver } from '../reduction/values.ts';

export { reduceCore };

/** What a primitive's handle carries for its core: its buffers (thread) or a broker handle (process). */
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
 * Whether `core` runs here over real shared memory (not a remote core of a child process).
 * @example
 * const fast = isLocal(core) ? (core as MutexCore).words : null
 */
export function isLocal(core: SharedCore): boolean {
  return !isRemoteCore(core);
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
