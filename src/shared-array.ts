// Shared arrays: Array (a typed array over shared memory with a lock), RawArray, and the child-process proxy.
import { activeProvider } from './shared/binding.ts';
import { kReduce, type Destination } from './reduction/values.ts';
import type { Lock, RLock, AcquireOptions } from './synchronize/lock.ts';
import {
  isRealCore,
  markLocal,
  reduceCore,
  registerPrimitive,
  type CoreHandle,
} from './shared/travel.ts';
import { BufferCore, type BufferCoreApi } from './shared/element-cores.ts';
import {
  allocate,
  checkTypecode,
  kTypedArrays,
  toElement,
  viewOf,
  type AnyTypedArray,
  type ElementOf,
  type Typecode,
  type TypedArrayOf,
} from './shared/typecodes.ts';
import { remoteArray } from './shared/remote-array.ts';
import { lockFrom, type LockOption } from './shared-types.ts';
import { checkInteger, describe } from './validate.ts';

/** What Array adds to a typed array: its lock and raw view (Python's SynchronizedArray). */
export interface SynchronizedMethods<C extends Typecode> {
  /** The typecode the array was created with. */
  readonly typecode: C;
  /** The lock guarding compound updates (element access itself is not locked). */
  getLock(): Lock | RLock;
  /** A plain typed array over the same memory (Python's `get_obj()`). */
  getObj(): TypedArrayOf<C>;
  acquire(options?: AcquireOptions): Promise<boolean>;
  acquireSync(options?: AcquireOptions): boolean;
  release(): void;
  withLock<R>(fn: () => R | Promise<R>): Promise<Awaited<R>>;
  withLockSync<R>(fn: () => R): R;
}

/** A typed array over shared memory with a lock: what {@link Array} returns. */
export type SynchronizedArray<C extends Typecode> = TypedArrayOf<C> & SynchronizedMethods<C>;
/** A typed array over shared memory that travels shared to child processes too: `Array(…, { lock: false })`. */
export type SharedArray<C extends Typecode> = TypedArrayOf<C> & { readonly typecode: C };

type ArrayState = {
  core: CoreHandle;
  typecode: Typecode;
  length: number;
  lock: Lock | RLock | null;
};

// What a shared array keeps beside its elements (typed array subclasses cannot hold #private
// fields set after construction, so a WeakMap keyed by the array does).
interface Extra {
  readonly core: BufferCoreApi;
  readonly typecode: Typecode;
  readonly lock: Lock | RLock | null;
}
const extras = new WeakMap<object, Extra>();

function extraOf(array: object): Extra {
  const extra = extras.get(array);
  if (!extra) throw new TypeError('not a shared array');
  return extra;
}

const sharedMethods = {
  get typecode(): Typecode {
    return extraOf(this).typecode;
  },
  [kReduce](this: AnyTypedArray, destination: Destination): { kind: string; state: ArrayState } {
    const { core, typecode, lock } = extraOf(this);
    return {
      kind: 'shared:Array',
      state: { core: reduceCore(core, destination), typecode, length: this.length, lock },
    };
  },
};

const lockMethods = {
  getLock(this: object): Lock | RLock {
    return extraOf(this).lock!;
  },
  getObj(this: AnyTypedArray): AnyTypedArray {
    const { core, typecode } = extraOf(this);
    if (!isRealCore(core)) return remoteArray(core, typecode, 0, this.length) as AnyTypedArray;
    return viewOf(typecode, this.buffer as unknown as SharedArrayBuffer, 0, this.length);
  },
  acquire(this: object, options?: AcquireOptions): Promise<boolean> {
    return extraOf(this).lock!.acquire(options);
  },
  acquireSync(this: object, options?: AcquireOptions): boolean {
    return extraOf(this).lock!.acquireSync(options);
  },
  release(this: object): void {
    extraOf(this).lock!.release();
  },
  withLock<R>(this: object, fn: () => R | Promise<R>): Promise<Awaited<R>> {
    return extraOf(this).lock!.withLock(fn);
  },
  withLockSync<R>(this: object, fn: () => R): R {
    return extraOf(this).lock!.withLockSync(fn);
  },
};

// One subclass per typed array kind and flavour; `species` keeps slice/map/subarray plain.
type ArrayClass = new (buffer: SharedArrayBuffer, o: number, n: number) => AnyTypedArray;
const classes = new Map<string, ArrayClass>();

function classFor(typecode: Typecode, synchronized: boolean): ArrayClass {
  const key = typecode + (synchronized ? '+lock' : '');
  let cls = classes.get(key);
  if (!cls) {
    const Base = kTypedArrays[typecode] as unknown as new (
      b: SharedArrayBuffer,
      o: number,
      n: number,
    ) => Uint8Array;
    const name = `${synchronized ? 'Synchronized' : 'Shared'}${Base.name}`;
    cls = {
      [name]: class extends Base {
        static get [Symbol.species]() {
          return Base;
        }
      },
    }[name]! as unknown as ArrayClass;
    for (const source of synchronized ? [sharedMethods, lockMethods] : [sharedMethods])
      Object.defineProperties(cls.prototype, Object.getOwnPropertyDescriptors(source));
    classes.set(key, cls);
  }
  return cls;
}

function build(
  typecode: Typecode,
  core: BufferCoreApi,
  length: number,
  lock: Lock | RLock | null,
  synchronized: boolean,
): AnyTypedArray {
  let array: AnyTypedArray;
  if (isRealCore(core)) {
    const Cls = classFor(typecode, synchronized);
    array = new Cls((core as BufferCore).view.buffer as unknown as SharedArrayBuffer, 0, length);
  } else {
    const members = { [kReduce]: sharedMethods[kReduce] };
    if (synchronized) Object.assign(members, lockMethods);
    array = remoteArray(core, typecode, 0, length, members) as AnyTypedArray;
  }
  extras.set(array, { core, typecode, lock });
  return array;
}

function elements(
  typecode: Typecode,
  sizeOrInit: unknown,
): { length: number; init: unknown[] | null } {
  if (typeof sizeOrInit === 'number') {
    checkInteger(sizeOrInit, 'sizeOrInit', 0);
    return { length: sizeOrInit, init: null };
  }
  if (
    sizeOrInit === null ||
    typeof sizeOrInit !== 'object' ||
    typeof (sizeOrInit as Iterable<unknown>)[Symbol.iterator] !== 'function'
  ) {
    throw new TypeError(
      `Expected \`sizeOrInit\` to be a size or an iterable of initial values, got ${describe(sizeOrInit)}`,
    );
  }
  const init = [...(sizeOrInit as Iterable<unknown>)].map((v, i) =>
    toElement(typecode, v, `sizeOrInit[${i}]`),
  );
  return { length: init.length, init };
}

function fresh(typecode: Typecode, sizeOrInit: unknown): BufferCore {
  const { length, init } = elements(typecode, sizeOrInit);
  const core = new BufferCore(
    BufferCore.over(typecode, allocate(typecode, length, activeProvider().memory), length),
  );
  if (init) core.write(0, init as number[]);
  return markLocal(core);
}

/** Options of {@link Array}. */
export interface ArrayOptions {
  /** true or omitted: a new RLock; a Lock/RLock: used as is; false: a shared array with no lock. */
  lock?: LockOption;
}

/**
 * A typed array over shared memory with a lock, as Python's `multiprocessing.Array`: `arr[i]`,
 * `length`, iteration, `set`, `subarray` work as on any typed array (element access is not
 * locked; use `getLock()` for compound updates). Created from a size (zero-filled) or an
 * iterable. Typed array rules, not Python's, apply to element access: out-of-range reads give
 * `undefined` and writes are ignored (Python raises IndexError); negative indices are out of
 * range too (`arr[-1]` is undefined: use `arr.at(-1)`); writes convert (1.5 is stored as 1,
 * where Python raises TypeError) and `l L q Q` elements take bigints only. In a child process
 * it is a proxy that follows the same rules and has the typed array methods: each element
 * access is a broker round trip, iteration and methods such as `reduce` copy the elements in one.
 * @example
 * const arr = mp.Array('d', [1, 2, 3])
 * arr.getLock().withLockSync(() => { arr[0] += arr[2] })
 */
export function Array<C extends Typecode>(
  typecode: C,
  sizeOrInit: number | Iterable<ElementOf<C> | number>,
  options?: { lock?: true | Lock | RLock },
): SynchronizedArray<C>;
export function Array<C extends Typecode>(
  typecode: C,
  sizeOrInit: number | Iterable<ElementOf<C> | number>,
  options: { lock: false },
): SharedArray<C>;
export function Array<C extends Typecode>(
  typecode: C,
  sizeOrInit: number | Iterable<ElementOf<C> | number>,
  options?: ArrayOptions,
): SynchronizedArray<C> | SharedArray<C>;
export function Array<C extends Typecode>(
  typecode: C,
  sizeOrInit: number | Iterable<ElementOf<C> | number>,
  options?: ArrayOptions,
): SynchronizedArray<C> | SharedArray<C> {
  checkTypecode(typecode);
  const lock = lockFrom(options);
  const core = fresh(typecode, sizeOrInit);
  const length = core.view.length;
  return build(typecode, core, length, lock, lock !== null) as SynchronizedArray<C>;
}

/**
 * A plain typed array over a SharedArrayBuffer, as Python's `RawArray`. Thread workers that
 * receive it share its memory; a child process receives a copy (use `Array(…, { lock: false })`
 * or SharedMemory to share with child processes).
 * @example
 * const data = mp.RawArray('d', 1_000_000)
 */
export function RawArray<C extends Typecode>(
  typecode: C,
  sizeOrInit: number | Iterable<ElementOf<C> | number>,
): TypedArrayOf<C> {
  checkTypecode(typecode);
  const core = fresh(typecode, sizeOrInit);
  return viewOf(
    typecode,
    core.view.buffer as unknown as SharedArrayBuffer,
    0,
    core.view.length,
  ) as TypedArrayOf<C>;
}

registerPrimitive<ArrayState>('shared:Array', (core, s) =>
  build(s.typecode, core as BufferCoreApi, s.length, s.lock, s.lock !== null),
);
