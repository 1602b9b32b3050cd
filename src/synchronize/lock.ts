// Lock and RLock: the public classes over the mutex core (synchronize/mutex-core.ts), with their withLock helpers.
import { activeProvider } from '../shared/binding.ts';
import { inspect } from 'node:util';
import type { SharedCore } from '../shared/core.ts';
import { kSelf, kSelfHi, kSelfLo, notify } from '../shared/atomics.ts';
import { MutexCore, kCount, kOwner, kState, type LockCoreApi } from './mutex-core.ts';
import { kReduce, type Destination } from '../reduction/values.ts';
import { state as runtimeState } from '../runtime/state.ts';
import { checkBoolean, checkFunction, checkKnown, checkTimeout } from '../validate.ts';
import {
  isRealCore,
  markLocal,
  reduceCore,
  registerPrimitive,
  type CoreHandle,
} from '../shared/travel.ts';

/** Something with acquire/release: the locks and semaphores. */
interface Acquirable {
  acquire(): Promise<boolean>;
  acquireSync(): boolean;
  release(): void;
}

/**
 * Runs `fn` between `acquire()` and `release()` of `lock` (awaiting `fn` if it returns a
 * Promise): the body of every primitive's `withLock`.
 * @example
 * withLock(fn) { return holding(this, fn) }
 */
export async function holding<R>(lock: Acquirable, fn: () => R | Promise<R>): Promise<Awaited<R>> {
  checkFunction(fn, 'fn');
  await lock.acquire();
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/**
 * As {@link holding} with a synchronous `fn`, blocking while it waits: the body of `withLockSync`.
 * @example
 * withLockSync(fn) { return holdingSync(this, fn) }
 */
export function holdingSync<R>(lock: Acquirable, fn: () => R): R {
  checkFunction(fn, 'fn');
  lock.acquireSync();
  try {
    return fn();
  } finally {
    lock.release();
  }
}

/** Options of `acquire`: `block: false` never waits; `timeout` in ms (undefined waits forever). */
export interface AcquireOptions {
  block?: boolean;
  timeout?: number;
}

const kAcquireOptions = ['block', 'timeout'];
// A misspelt `timeout` must not turn a timed wait into an endless one.
const kAcquireHints = { blocking: 'the option is named `block`, as in Python' };

/** Validates acquire options into a core timeout (0 for a non-blocking attempt). */
export function acquireTimeout(options: AcquireOptions | undefined): number | undefined {
  if (options === undefined) return undefined;
  checkKnown(options, 'options', kAcquireOptions, kAcquireHints);
  checkBoolean(options.block, 'block');
  checkTimeout(options.timeout, 'timeout');
  if (options.block === false) return 0;
  return options.timeout ?? undefined;
}

/** How a holder is shown in a repr: this process's name, or Python's placeholders. */
export function ownerName(owner: number | null): string {
  if (owner === null) return 'None';
  if (owner === kSelf) return runtimeState().name;
  return Math.floor(owner / 65536) === process.pid ? 'SomeOtherThread' : 'SomeOtherProcess';
}

// A received handle builds its object around an existing core instead of a fresh one.
let adopting: LockCoreApi | null = null;

function takeCore(kind: 'Lock' | 'RLock'): LockCoreApi {
  const core = adopting ?? markLocal(new MutexCore(kind, MutexCore.fresh(activeProvider().memory)));
  adopting = null;
  return core;
}

/** The core of a Lock or RLock (for Condition and Value, which run their algorithms on it). */
export let lockCoreOf: (lock: Lock | RLock) => LockCoreApi;

/**
 * A mutual-exclusion lock shared by every thread and process it is passed to, as Python's
 * `multiprocessing.Lock`. Not re-entrant; any thread may release it.
 * @example
 * const lock = new mp.Lock()
 * await lock.withLock(async () => { counter.value += 1 })
 */
export class Lock {
  readonly #core: LockCoreApi;

  constructor() {
    this.#core = takeCore('Lock');
  }

  static {
    lockCoreOf = (lock) => (lock as Lock).#core;
  }

  /**
   * Waits for the lock; resolves true once held, false if `timeout` ms passed or `block` is
   * false and the lock was taken.
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#core.acquireAsync(kSelf, acquireTimeout(options));
  }

  /** Like {@link acquire}, blocking the calling thread (meant for workers). */
  acquireSync(options?: AcquireOptions): boolean {
    return this.#core.acquireSync(
      kSelf,
      options === undefined ? undefined : acquireTimeout(options),
    );
  }

  /** Releases the lock; throws InvalidStateError ERR_RELEASED_TOO_MANY_TIMES if it is not held. */
  release(): void {
    this.#core.release(kSelf);
  }

  /** Runs `fn` holding the lock (awaiting it if it returns a Promise), then releases it. */
  withLock<R>(fn: () => R | Promise<R>): Promise<Awaited<R>> {
    return holding(this, fn);
  }

  /** Like {@link withLock} with a synchronous `fn`, blocking while it waits. */
  withLockSync<R>(fn: () => R): R {
    return holdingSync(this, fn);
  }

  [kReduce](destination: Destination): { kind: string; state: { core: CoreHandle } } {
    return { kind: 'sync:Lock', state: { core: reduceCore(this.#core, destination) } };
  }

  /** Python's repr: `<Lock(owner=None)>`, `<Lock(owner=MainProcess)>`. */
  toString(): string {
    return `<Lock(owner=${ownerName(this.#core.info().owner)})>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * A re-entrant lock: its holder may acquire it again and must release it as many times; only
 * the holder may release it (else InvalidStateError ERR_NOT_OWNER), as Python's `RLock`.
 * @example
 * const rlock = new mp.RLock()
 * rlock.acquireSync(); rlock.acquireSync(); rlock.release(); rlock.release()
 */
export class RLock {
  readonly #core: LockCoreApi;
  // For a local core: its words, so the uncontended paths below run without a call (a fresh
  // worker runs this code interpreted at first); they are MutexCore's fast paths, inlined.
  readonly #w: Int32Array | null;

  constructor() {
    this.#core = takeCore('RLock');
    this.#w = isRealCore(this.#core) ? (this.#core as MutexCore).words : null;
  }

  static {
    const lockOf = lockCoreOf;
    lockCoreOf = (lock) => (#core in lock ? lock.#core : lockOf(lock));
  }

  /** Waits for the lock (at once if this thread holds it); false after `timeout` ms. */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#core.acquireAsync(kSelf, acquireTimeout(options));
  }

  /** Like {@link acquire}, blocking the calling thread (meant for workers). */
  acquireSync(options?: AcquireOptions): boolean {
    const w = this.#w;
    if (w !== null && options === undefined) {
      if (w[kOwner + 1] === kSelfLo && w[kOwner] === kSelfHi) {
        w[kCount]! += 1;
        return true;
      }
      if (Atomics.compareExchange(w, kState, 0, 1) === 0) {
        w[kOwner] = kSelfHi;
        w[kOwner + 1] = kSelfLo;
        w[kCount] = 1;
        return true;
      }
    }
    return this.#core.acquireSync(
      kSelf,
      options === undefined ? undefined : acquireTimeout(options),
    );
  }

  /** Releases one level; throws InvalidStateError ERR_NOT_OWNER unless this thread holds it. */
  release(): void {
    const w = this.#w;
    if (w !== null && w[kOwner + 1] === kSelfLo && w[kOwner] === kSelfHi) {
      if (--w[kCount]! > 0) return;
      w[kOwner + 1] = 0;
      w[kOwner] = 0;
      if (Atomics.exchange(w, kState, 0) === 2) notify(w, kState, 1);
      return;
    }
    this.#core.release(kSelf);
  }

  /** Runs `fn` holding the lock, then releases it. */
  withLock<R>(fn: () => R | Promise<R>): Promise<Awaited<R>> {
    return holding(this, fn);
  }

  /** Like {@link withLock} with a synchronous `fn`, blocking while it waits. */
  withLockSync<R>(fn: () => R): R {
    return holdingSync(this, fn);
  }

  [kReduce](destination: Destination): { kind: string; state: { core: CoreHandle } } {
    return { kind: 'sync:RLock', state: { core: reduceCore(this.#core, destination) } };
  }

  /** Python's repr: `<RLock(MainProcess, 3)>`, `<RLock(None, 0)>`. */
  toString(): string {
    const { owner, count } = this.#core.info();
    return `<RLock(${ownerName(owner)}, ${count})>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * Builds a Lock or RLock around an existing core (a revived handle).
 * @example
 * const lock = adoptLock(core)
 */
export function adoptLock(core: SharedCore): Lock | RLock {
  adopting = core as LockCoreApi;
  try {
    return core.kind === 'RLock' ? new RLock() : new Lock();
  } finally {
    adopting = null;
  }
}

registerPrimitive('sync:Lock', (core) => adoptLock(core));
registerPrimitive('sync:RLock', (core) => adoptLock(core));
