// Shared ctypes-like numbers, as Python's sharedctypes Value/RawValue (with or without a lock).
import { activeProvider } from './shared/binding.ts';
import { inspect } from 'node:util';
import { kSelf, kSelfHi, kSelfLo } from './shared/atomics.ts';
import { kReduce, type Destination } from './reduction/values.ts';
import { Lock, RLock, lockCoreOf, type AcquireOptions } from './synchronize/lock.ts';
import { kOwner, type MutexCore } from './synchronize/mutex-core.ts';
import {
  isRealCore,
  markLocal,
  reduceCore,
  registerPrimitive,
  type CoreHandle,
} from './shared/travel.ts';
import { checkKnown, invalidArg } from './validate.ts';
import {
  BufferCore,
  ValueCore,
  type BufferCoreApi,
  type ValueCoreApi,
} from './shared/element-cores.ts';
import {
  allocate,
  checkTypecode,
  isBig,
  toElement,
  type ElementOf,
  type Typecode,
} from './shared/typecodes.ts';

/** The `lock` option of Value and Array: true/undefined for a new RLock, a Lock/RLock, or false for none. */
export type LockOption = boolean | Lock | RLock | undefined;

/** Validates a `lock` option: a new RLock, the given lock, or null for a raw object. */
export function lockFrom(options: { lock?: LockOption } | undefined): Lock | RLock | null {
  checkKnown(options, 'options', ['lock']);
  const lock = options?.lock;
  if (lock === undefined || lock === true) return new RLock();
  if (lock === false) return null;
  if (lock instanceof Lock || lock instanceof RLock) return lock;
  return invalidArg('lock', 'a boolean, a Lock or an RLock', lock);
}

let adoptingRaw: { core: BufferCoreApi; typecode: Typecode } | null = null;

/**
 * A single shared number (bigint for l L q Q) with no lock, as Python's `RawValue`: `.value`
 * reads and writes the shared memory directly (a broker round trip in a child process).
 * @example
 * const hits = mp.RawValue('i', 0)
 * hits.value += 1 // not atomic: use mp.Value and getLock() when several workers write
 */
export class RawSharedValue<T extends number | bigint = number> {
  /** The typecode this value was created with. */
  readonly typecode: Typecode;
  readonly #core: BufferCoreApi;
  readonly #view: { [i: number]: T } | null;

  /** Use {@link RawValue}. */
  constructor(typecode: Typecode, init?: T) {
    if (adoptingRaw) {
      ({ core: this.#core, typecode: this.typecode } = adoptingRaw);
      adoptingRaw = null;
    } else {
      checkTypecode(typecode);
      const value = init === undefined ? undefined : toElement(typecode, init, 'init');
      this.typecode = typecode;
      const core = markLocal(
        new BufferCore(
          BufferCore.over(typecode, allocate(typecode, 1, activeProvider().memory), 1),
        ),
      );
      if (value !== undefined) core.set(0, value);
      this.#core = core;
    }
    this.#view = isRealCore(this.#core)
      ? ((this.#core as BufferCore).view as unknown as { [i: number]: T })
      : null;
  }

  /** The shared value. Integer writes wrap as in C (`RawValue('b')` set to 200 reads -56). */
  get value(): T {
    return this.#view ? this.#view[0]! : (this.#core.get(0) as T);
  }
  set value(v: T) {
    const x = toElement(this.typecode, v, 'value') as T;
    if (this.#view) this.#view[0] = x;
    else this.#core.set(0, x);
  }

  [kReduce](destination: Destination): { kind: string; state: RawState } {
    return {
      kind: 'shared:RawValue',
      state: { core: reduceCore(this.#core, destination), typecode: this.typecode },
    };
  }

  /** `<RawValue i(5)>`. */
  toString(): string {
    return `<RawValue ${this.typecode}(${String(this.value)})>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

type RawState = { core: CoreHandle; typecode: Typecode };
type SyncState = RawState & { lock: Lock | RLock };

registerPrimitive<RawState>('shared:RawValue', (core, s) => {
  adoptingRaw = { core: core as BufferCoreApi, typecode: s.typecode };
  try {
    return new RawSharedValue(s.typecode);
  } finally {
    adoptingRaw = null;
  }
});

let adoptingSync: { core: ValueCoreApi; typecode: Typecode; lock: Lock | RLock } | null = null;

/**
 * A shared number guarded by a lock, as Python's `Synchronized` wrapper: each `.value` read or
 * write takes the lock for its own duration, so `v.value += 1` still needs `getLock()` around
 * it. With a plain `Lock` (not the default RLock), using `.value` while holding that lock
 * deadlocks, as in Python.
 * @example
 * const counter = mp.Value('i', 0)
 * counter.getLock().withLockSync(() => { counter.value += 1 })
 */
export class SynchronizedValue<T extends number | bigint = number> {
  /** The typecode this value was created with. */
  readonly typecode: Typecode;
  readonly #core: ValueCoreApi;
  readonly #lock: Lock | RLock;
  // Thread-context fast path: the lock's core and the element, touched directly; `#words` is
  // set for an RLock, whose holder may read and write without re-entering it.
  readonly #lockCore: MutexCore | null;
  readonly #words: Int32Array | null;
  readonly #view: { [i: number]: T } | null;
  readonly #exact: boolean;

  /** Use {@link Value}. */
  constructor(typecode: Typecode, init: T | undefined, lock: Lock | RLock) {
    if (adoptingSync) {
      ({ core: this.#core, typecode: this.typecode, lock: this.#lock } = adoptingSync);
      adoptingSync = null;
    } else {
      const value = init === undefined ? undefined : toElement(typecode, init, 'init');
      this.typecode = typecode;
      this.#lock = lock;
      const lockCore = lockCoreOf(lock);
      const core = new ValueCore(
        ValueCore.fresh(typecode, lockCore.kind, lockCore.state, activeProvider().memory),
      );
      if (value !== undefined) core.set(0, value);
      this.#core = markLocal(core);
    }
    const lockCore = lockCoreOf(this.#lock);
    const local = isRealCore(this.#core) && isRealCore(lockCore);
    this.#lockCore = local ? (lockCore as MutexCore) : null;
    this.#words = local && lockCore.kind === 'RLock' ? (lockCore as MutexCore).words : null;
    this.#view = local ? ((this.#core as ValueCore).view as unknown as { [i: number]: T }) : null;
    // Number typecodes other than f/d take integers only; bigint codes are checked by toElement.
    this.#exact = !isBig(this.typecode) && this.typecode !== 'f' && this.typecode !== 'd';
  }

  /** The shared value, read or written under the lock. Integer writes wrap as in C. */
  get value(): T {
    const w = this.#words;
    if (w !== null && w[kOwner + 1] === kSelfLo && w[kOwner] === kSelfHi) return this.#view![0]!;
    const lock = this.#lockCore;
    if (lock === null) return this.#core.getLockedSync(kSelf) as T;
    lock.acquireSync(kSelf, undefined);
    const v = this.#view![0]!;
    lock.release(kSelf);
    return v;
  }
  set value(v: T) {
    const x =
      typeof v === 'number' && (this.#exact ? Number.isInteger(v) : !isBig(this.typecode))
        ? v
        : (toElement(this.typecode, v, 'value') as T);
    const w = this.#words;
    if (w !== null && w[kOwner + 1] === kSelfLo && w[kOwner] === kSelfHi) {
      this.#view![0] = x;
      return;
    }
    const lock = this.#lockCore;
    if (lock === null) {
      this.#core.setLockedSync(kSelf, x);
      return;
    }
    lock.acquireSync(kSelf, undefined);
    this.#view![0] = x;
    lock.release(kSelf);
  }

  /** The lock guarding the value (an RLock unless one was given). */
  getLock(): Lock | RLock {
    return this.#lock;
  }

  /** The unsynchronized value over the same memory (Python's `get_obj()`). */
  getObj(): RawSharedValue<T> {
    adoptingRaw = { core: this.#core, typecode: this.typecode };
    try {
      return new RawSharedValue<T>(this.typecode);
    } finally {
      adoptingRaw = null;
    }
  }

  /** Acquires the value's lock. */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /** Acquires the value's lock, blocking. */
  acquireSync(options?: AcquireOptions): boolean {
    return this.#lock.acquireSync(options);
  }

  /** Releases the value's lock. */
  release(): void {
    this.#lock.release();
  }

  /** Runs `fn` holding the value's lock. */
  withLock<R>(fn: () => R | Promise<R>): Promise<Awaited<R>> {
    return this.#lock.withLock(fn);
  }

  /** Like {@link withLock} with a synchronous `fn`, blocking while it waits. */
  withLockSync<R>(fn: () => R): R {
    return this.#lock.withLockSync(fn);
  }

  [kReduce](destination: Destination): { kind: string; state: SyncState } {
    return {
      kind: 'shared:Value',
      state: {
        core: reduceCore(this.#core, destination),
        typecode: this.typecode,
        lock: this.#lock,
      },
    };
  }

  /** Python's repr: `<Synchronized wrapper for i(5)>`. */
  toString(): string {
    return `<Synchronized wrapper for ${this.typecode}(${String(this.value)})>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

registerPrimitive<SyncState>('shared:Value', (core, s) => {
  adoptingSync = { core: core as ValueCoreApi, typecode: s.typecode, lock: s.lock };
  try {
    return new SynchronizedValue(s.typecode, undefined, s.lock);
  } finally {
    adoptingSync = null;
  }
});

/** Options of {@link Value}. */
export interface ValueOptions {
  /** true or omitted: a new RLock; a Lock/RLock: used as is; false: a raw value with no lock. */
  lock?: LockOption;
}

/**
 * A shared number in shared memory with a lock, as Python's `multiprocessing.Value`.
 * Typecodes b B h H i I f d hold numbers, l L q Q bigints; an unknown typecode throws a
 * TypeError listing them. `{ lock: false }` returns a {@link RawSharedValue}.
 * @example
 * const v = mp.Value('i', 0)
 * const lock = v.getLock()
 * lock.acquireSync(); v.value += 1; lock.release()
 */
export function Value<C extends Typecode>(
  typecode: C,
  init?: ElementOf<C>,
  options?: { lock?: true | Lock | RLock },
): SynchronizedValue<ElementOf<C>>;
export function Value<C extends Typecode>(
  typecode: C,
  init: ElementOf<C> | undefined,
  options: { lock: false },
): RawSharedValue<ElementOf<C>>;
export function Value<C extends Typecode>(
  typecode: C,
  init?: ElementOf<C>,
  options?: ValueOptions,
): SynchronizedValue<ElementOf<C>> | RawSharedValue<ElementOf<C>>;
export function Value<C extends Typecode>(
  typecode: C,
  init?: ElementOf<C>,
  options?: ValueOptions,
): SynchronizedValue<ElementOf<C>> | RawSharedValue<ElementOf<C>> {
  checkTypecode(typecode);
  const lock = lockFrom(options);
  if (lock === null) return new RawSharedValue(typecode, init);
  return new SynchronizedValue(typecode, init, lock);
}

/**
 * A shared number with no lock, as Python's `multiprocessing.RawValue`.
 * @example
 * const flag = mp.RawValue('b', 0)
 */
export function RawValue<C extends Typecode>(
  typecode: C,
  init?: ElementOf<C>,
): RawSharedValue<ElementOf<C>> {
  checkTypecode(typecode);
  return new RawSharedValue(typecode, init);
}
