// The contract between a shared primitive's algorithm (its core) and the places it runs.
//
// Every shared primitive (Lock, Semaphore, Queue, Value…) is split in two:
//  - a *core*: the algorithm over SharedArrayBuffers and Atomics. It runs identically in the
//    main thread, in any thread worker (which receives the same buffers) and in the broker
//    thread (which runs it on behalf of child processes that reach it through the broker);
//  - the *public class*: validation, options, async/sync forms; it calls its core.
//
// Method conventions on a core (the broker and the remote stub rely on them):
//  - `fooAsync(...)` may wait; it returns a Promise and never blocks the thread
//    (Atomics.waitAsync). `fooSync(...)` blocks the calling thread (Atomics.wait) and has a
//    `fooAsync` twin; the broker runs the twin so that one child's wait never blocks others.
//  - any other method never waits (release, set, getValue, read…) and returns at once.
//  - arguments and results are structured-cloneable; ownership is explicit: methods that care
//    who calls them (RLock, Condition) take an `owner` argument = {@link callerId}().
//
// Where the memory cannot be mapped into a child process (the broker provider), a child's core
// is a *remote core*: an object with the same method names whose calls travel to the broker (async methods as async RPC, the others as blocking RPC through
// the child's helper thread). The public class cannot tell the difference. How a primitive
// travels (reduceCore/reviveCore), named buffers, and the broker's rules: src/broker/provider.ts.
import { threadId } from 'node:worker_threads';

/** A core's whole state: its buffers (shared memory) and immutable metadata. */
export interface CoreState {
  readonly buffers: readonly SharedArrayBuffer[];
  readonly meta?: unknown;
}

/** A primitive's algorithm over shared memory. */
export interface SharedCore {
  /** Key in the core registry (e.g. 'Lock'); the same on every side. */
  readonly kind: string;
  /** The state that recreates this core elsewhere. */
  readonly state: CoreState;
}

type CoreFactory = (state: CoreState) => SharedCore;
const factories = new Map<string, CoreFactory>();
const moduleUrls = new Map<string, string>();

/**
 * Registers how a core of `kind` is created from its state (call at module load of the core's file).
 * The broker thread imports the library's public surface, which registers every library core;
 * a core defined elsewhere (tests, extensions) passes its module URL (`import.meta.url`) so the
 * broker can import it before creating the core.
 */
export function registerCore(kind: string, create: CoreFactory, moduleUrl?: string): void {
  factories.set(kind, create);
  if (moduleUrl !== undefined) moduleUrls.set(kind, moduleUrl);
}

/** The module URL given to {@link registerCore} for `kind`, if any (the broker imports it). */
export function coreModuleUrl(kind: string): string | undefined {
  return moduleUrls.get(kind);
}

/** Whether a core of `kind` is registered in this thread. */
export function hasCore(kind: string): boolean {
  return factories.has(kind);
}

/** Creates a core from its state (in a thread worker, the broker, or the owner). */
export function createCore(kind: string, state: CoreState): SharedCore {
  const create = factories.get(kind);
  if (!create) throw new Error(`assertion failed: no core registered for kind '${kind}'`);
  return create(state);
}

/**
 * A number unique to the calling thread across the whole program (every process and thread),
 * for ownership checks: pid × 2¹⁶ + threadId (a safe integer).
 */
export function callerId(): number {
  return process.pid * 65536 + threadId;
}
