// Shared arrays: Array (a typed array over shared memory with a lock), RawArray, and the child-process proxy.
import { kReduce, type Destination } from './reduction/values.ts';
import type { Lock, RLock, AcquireOptions } from './synchronize/lock.ts';
import {
  isLocal,
  markLocal,
  reduceCore,
  registerPrimitive,
  type CoreHandle,
} from './synchronize/travel.ts';
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
    if (!isLocal(core)) return remoteArray(core, typecode, 0, this.length, false) as AnyTypedArray;
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
  if (isLocal(core)) {
    const Cls = classFor(typecode, synchronized);
    array = new Cls((core as BufferCore).view.buffer as unknown as SharedArrayBuffer, 0, length);
  } else {
    array = remoteArray(core, typecode, 0, length, synchronized) as AnyTypedArray;
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
  const core = new BufferCore(BufferCore.over(typecode, allocate(typecode, length), length));
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
 * locked; use `getLock()` for compound updates). Created from a size (zero-filled) or a
 * sequence. Out-of-range reads give `undefined` and writes are ignored, as typed arrays do
 * (Python raises IndexError). In a child process it is an index-compatible proxy whose every
 * access is a broker round trip.
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

// --- In a child process: an index-compatible proxy over the broker's buffer core.

function isIndexKey(key: string | symbol): boolean {
  return typeof key === 'string' && key.length > 0 && key.length < 17 && /^\d+$/.test(key);
}

/**
 * A Proxy that reads and writes `core` elements offset..offset+length like a typed array:
 * each element access is one broker round trip; iteration and slice copy in one.
 * @example
 * const arr = remoteArray(core, 'd', 0, 8, false); arr[0] = 1.5
 */
export function remoteArray(
  core: BufferCoreApi,
  typecode: Typecode,
  offset: number,
  length: number,
  synchronized: boolean,
): object {
  const Base = kTypedArrays[typecode];
  const clamp = (i: number | undefined, dflt: number) => {
    if (i === undefined) return dflt;
    const n = Math.trunc(i);
    return n < 0 ? Math.max(0, length + n) : Math.min(n, length);
  };
  const methods: Record<string | symbol, unknown> = {
    length,
    byteLength: length * Base.BYTES_PER_ELEMENT,
    BYTES_PER_ELEMENT: Base.BYTES_PER_ELEMENT,
    slice: (begin?: number, end?: number) => {
      const b = clamp(begin, 0);
      const e = clamp(end, length);
      return e > b ? core.read(offset + b, offset + e) : new Base(0);
    },
    subarray: (begin?: number, end?: number) => {
      const b = clamp(begin, 0);
      const e = clamp(end, length);
      return remoteArray(core, typecode, offset + b, Math.max(0, e - b), false);
    },
    set: (values: ArrayLike<number | bigint>, at = 0) => {
      if (at < 0 || at + values.length > length) throw new RangeError('offset is out of bounds');
      core.write(offset + at, globalThis.Array.from(values));
    },
    at: (i: number) => {
      const n = Math.trunc(i) < 0 ? length + Math.trunc(i) : Math.trunc(i);
      return n >= 0 && n < length ? core.get(offset + n) : undefined;
    },
    fill: (value: number | bigint, begin?: number, end?: number) => {
      const b = clamp(begin, 0);
      const e = clamp(end, length);
      if (e > b) core.write(offset + b, new globalThis.Array(e - b).fill(value));
      return proxy;
    },
    toArray: null,
    [Symbol.iterator]: function* () {
      yield* (methods.slice as () => Iterable<number | bigint>)();
    },
    [Symbol.toStringTag]: `Remote${Base.name}`,
  };
  methods.toArray = () => globalThis.Array.from((methods.slice as () => ArrayLike<number>)());
  const target = Object.assign(Object.create(null), methods, synchronized ? lockMethods : {});
  const proxy: object = new Proxy(target, {
    get(t, key, receiver) {
      if (isIndexKey(key)) {
        const i = Number(key as string);
        return i < length ? core.get(offset + i) : undefined;
      }
      if (key === 'typecode') return typecode;
      if (key === (kReduce as symbol))
        return (destination: Destination) => sharedMethods[kReduce].call(receiver, destination);
      return Reflect.get(t, key, receiver);
    },
    set(t, key, value, receiver) {
      if (isIndexKey(key)) {
        const i = Number(key as string);
        if (i < length) core.set(offset + i, toElement(typecode, value, `[${String(key)}]`));
        return true;
      }
      return Reflect.set(t, key, value, receiver);
    },
    has(t, key) {
      if (isIndexKey(key)) return Number(key) < length;
      return Reflect.has(t, key);
    },
  });
  return proxy;
}
