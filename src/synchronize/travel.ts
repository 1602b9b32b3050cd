// How shared primitives travel: a core's state for threads, a broker handle for child processes.
import { createCore, type CoreState, type SharedCore } from '../shared/core.ts';
import { noteReducible, registerReviver, type Destination } from '../reduction/values.ts';

/** What a primitive's handle carries for its core. */
export type CoreHandle =
  | { readonly local: true; readonly kind: string; readonly state: CoreState }
  | { readonly local: false; readonly remote: unknown };

// A core made here over real SharedArrayBuffers is "local"; a remote stub (child process) is not.
const localCores = new WeakSet<SharedCore>();

/**
 * Marks a core as running here over real shared memory (created with `new`, or from a thread handle).
 * @example
 * const core = markLocal(new LockCore(state))
 */
export function markLocal<C extends SharedCore>(core: C): C {
  localCores.add(core);
  noteReducible();
  return core;
}

/**
 * The handle part that recreates `core` at `destination`: its buffers for a thread (same memory),
 * a broker reference for a child process.
 * @example
 * [kReduce](destination) { return { kind: 'sync:Lock', state: reduceCore(this.#core, destination) } }
 */
export function reduceCore(core: SharedCore, destination: Destination): CoreHandle {
  if (destination === 'thread' && localCores.has(core)) {
    return { local: true, kind: core.kind, state: core.state };
  }
  return { local: false, remote: remoteReduce(core, destination) };
}

/**
 * The core a received handle stands for: the same algorithm over the same buffers in a thread,
 * a remote stub in a child process.
 * @example
 * registerReviver('sync:Lock', (h) => adoptLock(reviveCore(h)))
 */
export function reviveCore(handle: CoreHandle): SharedCore {
  if (handle.local) return markLocal(createCore(handle.kind, handle.state));
  return remoteRevive(handle.remote);
}

type RemoteHooks = {
  reduce(core: SharedCore, destination: Destination): unknown;
  revive(remote: unknown): SharedCore;
};
let remoteHooks: RemoteHooks | null = null;

/**
 * Installs how cores cross to child processes (the broker's shareCore/coreFromHandle).
 * @example
 * installRemote({ reduce: reduceCoreForProcess, revive: coreFromHandle })
 */
export function installRemote(hooks: RemoteHooks): void {
  remoteHooks = hooks;
}

function remoteReduce(core: SharedCore, destination: Destination): unknown {
  if (!remoteHooks) {
    throw new Error(
      `assertion failed: a ${core.kind} cannot reach a ${destination} worker: the broker is not available`,
    );
  }
  return remoteHooks.reduce(core, destination);
}

function remoteRevive(remote: unknown): SharedCore {
  if (!remoteHooks) throw new Error('assertion failed: the broker is not available');
  return remoteHooks.revive(remote);
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
  registerReviver(kind, (state: S) => adopt(reviveCore(state.core), state));
}

/** Whether a core is local (real shared memory here). */
export function isLocal(core: SharedCore): boolean {
  return localCores.has(core);
}
