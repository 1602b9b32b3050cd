// Shared ctypes-like values: typecodes, the buffer and value cores, Value and RawValue.
import { inspect } from 'node:util';
import { registerCore, type CoreState, type SharedCore } from './shared/core.ts';
import { kSelf, kSelfHi, kSelfLo } from './shared/atomics.ts';
import { kReduce, type Destination } from './reduction/values.ts';
import {
  Lock,
  RLock,
  kOwner,
  lockCoreOf,
  type AcquireOptions,
  type MutexCore,
} from './synchronize/lock.ts';
import {
  isLocal,
  markLocal,
  reduceCore,
  registerPrimitive,
  type CoreHandle,
} from './synchronize/travel.ts';
import { checkOneOf, checkOptions, describe } from './validate.ts';
import { createCore } from './shared/core.ts';

/** The typed array behind each typecode (`l`/`L` are 64-bit, as C `long` on Linux). */
export const kTypedArrays = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  f: Float32Array,
  d: Float64Array,
} as const;

/** A ctypes typecode: b B h H i I f d hold numbers, l L q Q hold bigints. */
export type Typecode = keyof typeof kTypedArrays;
/** The 64-bit typecodes, whose elements are bigints. */
export type BigTypecode = 'l' | 'L' | 'q' | 'Q';
/** The element type of a typecode. */
export type ElementOf<C extends Typecode> = C extends BigTypecode ? bigint : number;
/** The typed array of a typecode. */
export type TypedArrayOf<C extends Typecode> = InstanceType<(typeof kTypedArrays)[C]>;
/** Any typed array this module creates. */
export type AnyTypedArray = TypedArrayOf<Typecode>;

const kTypecodes = Object.keys(kTypedArrays) as Typecode[];

/** Throws a TypeError naming every typecode unless `typecode` is one. */
export function checkTypecode(typecode: unknown): asserts typecode is Typecode {
  checkOneOf(typecode, 'typecode', kTypecodes);
}

/** Whether a typecode's elements are bigints. */
export function isBig(typecode: Typecode): typecode is BigTypecode {
  return typecode === 'l' || typecode === 'L' || typecode === 'q' || typecode === 'Q';
}

/**
 * Checks one element for `typecode` as Python does (an integer code refuses 1.5) and returns it
 * ready to store; out-of-range integers wrap when stored, as in C.
 */
export function toElement(typecode: Typecode, value: unknown, name: string): number | bigint {
  if (isBig(typecode)) {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
    throw new TypeError(
      `Expected \`${name}\` to be a bigint or an integer, got ${describe(value)}`,
    );
  }
  if (typeof value === 'number') {
    if (typecode === 'f' || typecode === 'd' || Number.isInteger(value)) return value;
    throw new TypeError(`Expected \`${name}\` to be an integer, got ${describe(value)}`);
  }
  const expected = typecode === 'f' || typecode === 'd' ? 'a number' : 'an integer';
  throw new TypeError(`Expected \`${name}\` to be ${expected}, got ${describe(value)}`);
}

/** A typed array of `typecode` over `buffer`. */
export function viewOf(
  typecode: Typecode,
  buffer: SharedArrayBuffer,
  byteOffset = 0,
  length?: number,
): AnyTypedArray {
  const Ctor = kTypedArrays[typecode] as unknown as new (
    b: SharedArrayBuffer,
    o: number,
    n?: number,
  ) => AnyTypedArray;
  return new Ctor(buffer, byteOffset, length);
}

/** A zeroed shared buffer for `length` elements of `typecode`. */
export function allocate(typecode: Typecode, length: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(1, length) * kTypedArrays[typecode].BYTES_PER_ELEMENT);
}

/** What buffer cores offer: element access that also works through the broker. */
export interface BufferCoreApi extends SharedCore {
  get(index: number): number | bigint;
  set(index: number, value: number | bigint): void;
  /** A copy of elements start..end. */
  read(start: number, end: number): AnyTypedArray;
  /** Stores `values` from element `start`. */
  write(start: number, values: ArrayLike<number | bigint>): void;
}

interface BufferMeta {
  readonly typecode: Typecode;
  readonly length: number;
}

/**
 * Elements of one typecode over a shared buffer; what a child process reaches through the broker
 * for Array elements and SharedMemory bytes.
 * @example
 * const core = new BufferCore({ buffers: [allocate('d', 8)], meta: { typecode: 'd', length: 8 } })
 */
export class BufferCore implements BufferCoreApi {
  readonly kind: string = 'Buffer';
  readonly state: CoreState;
  readonly view: AnyTypedArray;

  constructor(state: CoreState) {
    this.state = state;
    const { typecode, length } = state.meta as BufferMeta;
    this.view = viewOf(typecode, state.buffers[0]!, 0, length);
  }

  /** A state over `buffer` holding `length` elements of `typecode`. */
  static over(typecode: Typecode, buffer: SharedArrayBuffer, length: number): CoreState {
    return { buffers: [buffer], meta: { typecode, length } satisfies BufferMeta };
  }

  get(index: number): number | bigint {
    return this.view[index]!;
  }

  set(index: number, value: number | bigint): void {
    (this.view as { [i: number]: number | bigint })[index] = value;
  }

  read(start: number, end: number): AnyTypedArray {
    return this.view.slice(start, end) as AnyTypedArray;
  }

  write(start: number, values: ArrayLike<number | bigint>): void {
    (this.view as { set(v: ArrayLike<number | bigint>, o: number): void }).set(values, start);
  }
}

registerCore('Buffer', (state) => new BufferCore(state));

/** What value cores add: reads and writes that take the value's lock for their own duration. */
export interface ValueCoreApi extends BufferCoreApi {
  getLockedSync(owner: number): number | bigint;
  getLockedAsync(owner: number): Promise<number | bigint>;
  setLockedSync(owner: number, value: number | bigint): void;
  setLockedAsync(owner: number, value: number | bigint): Promise<void>;
}

/**
 * A one-element buffer plus the core of its lock: one broker round trip per `.value` in a child.
 * @example
 * const core = new ValueCore(ValueCore.fresh('i', 'RLock', lockState))
 */
export class ValueCore extends BufferCore implements ValueCoreApi {
  override readonly kind = 'Value';
  readonly #lock: MutexCore;

  constructor(state: CoreState) {
    super({ buffers: state.buffers.slice(0, 1), meta: state.meta });
    (this as { state: CoreState }).state = state;
    const { lockKind } = state.meta as { lockKind: string };
    this.#lock = createCore(lockKind, { buffers: state.buffers.slice(1) }) as MutexCore;
  }

  /** A state for one element of `typecode` guarded by the lock whose state is `lock`. */
  static fresh(typecode: Typecode, lockKind: string, lock: CoreState): CoreState {
    return {
      buffers: [allocate(typecode, 1), ...lock.buffers],
      meta: { typecode, length: 1, lockKind },
    };
  }

  getLockedSync(owner: number): number | bigint {
    this.#lock.acquireSync(owner, undefined);
    const v = this.view[0]!;
    this.#lock.release(owner);
    return v;
  }

  async getLockedAsync(owner: number): Promise<number | bigint> {
    await this.#lock.acquireAsync(owner, undefined);
    const v = this.view[0]!;
    this.#lock.release(owner);
    return v;
  }

  setLockedSync(owner: number, value: number | bigint): void {
    this.#lock.acquireSync(owner, undefined);
    (this.view as { [i: number]: number | bigint })[0] = value;
    this.#lock.release(owner);
  }

  async setLockedAsync(owner: number, value: number | bigint): Promise<void> {
    await this.#lock.acquireAsync(owner, undefined);
    (this.view as { [i: number]: number | bigint })[0] = value;
    this.#lock.release(owner);
  }
}

registerCore('Value', (state) => new ValueCore(state));

/** The `lock` option of Value and Array: true/undefined for a new RLock, a Lock/RLock, or false for none. */
export type LockOption = boolean | Lock | RLock | undefined;

/** Validates a `lock` option: a new RLock, the given lock, or null for a raw object. */
export function lockFrom(options: { lock?: LockOption } | undefined): Lock | RLock | null {
  checkOptions(options, 'options');
  const lock = options?.lock;
  if (lock === undefined || lock === true) return new RLock();
  if (lock === false) return null;
  if (lock instanceof Lock || lock instanceof RLock) return lock;
  throw new TypeError(
    `Expected \`lock\` to be a boolean, a Lock or an RLock, got ${describe(lock)}`,
  );
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
      const core = markLocal(new BufferCore(BufferCore.over(typecode, allocate(typecode, 1), 1)));
      if (value !== undefined) core.set(0, value);
      this.#core = core;
    }
    this.#view = isLocal(this.#core)
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
      const core = new ValueCore(ValueCore.fresh(typecode, lockCore.kind, lockCore.state));
      if (value !== undefined) core.set(0, value);
      this.#core = markLocal(core);
    }
    const lockCore = lockCoreOf(this.#lock);
    const local = isLocal(this.#core) && isLocal(lockCore);
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
