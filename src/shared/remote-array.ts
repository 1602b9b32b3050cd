// The child-process stand-in for a shared typed array: a Proxy that behaves like one over a broker core.
import { inspect } from 'node:util';
import { kReduce, registerReviver } from '../reduction/values.ts';
import type { BufferCoreApi } from './element-cores.ts';
import { kTypedArrays, type AnyTypedArray, type Typecode } from './typecodes.ts';

type Ctor = new (length: number) => AnyTypedArray;

// Typed array methods a child runs on a copy of the elements (one round trip); those that
// change the array write the copy back (a second one). slice, subarray, set, at, fill and
// iteration have their own forms below, which touch only what they need.
const kTypedArrayProto = Object.getPrototypeOf(Int8Array.prototype) as object;
const kCopyMethods = new Set<string | symbol>(
  Reflect.ownKeys(kTypedArrayProto).filter(
    (key) =>
      key !== 'constructor' &&
      typeof Object.getOwnPropertyDescriptor(kTypedArrayProto, key)?.value === 'function',
  ),
);
const kWritingMethods = new Set<string | symbol>(['copyWithin', 'reverse', 'sort']);
const kCopyKind = 'shared:ArrayCopy';
registerReviver(kCopyKind, (elements: AnyTypedArray) => elements);

/**
 * The number a typed array gives a property key (its CanonicalNumericIndexString), or
 * undefined: "-1", "1.5" and "NaN" are numeric keys that no element has, as on typed arrays.
 */
function numericKey(key: string | symbol): number | undefined {
  if (typeof key !== 'string') return undefined;
  if (key === '-0') return -0;
  const n = Number(key);
  return String(n) === key ? n : undefined;
}

/**
 * A Proxy that reads and writes `core` elements offset..offset+length the way a typed array
 * would: each element access is one broker round trip; iteration, slice and the other typed
 * array methods copy the elements in one. Element writes convert as a typed array does (1.5
 * stored as 1 in an integer array, a number refused by a bigint array) and indices outside
 * the array (negative ones too) read undefined and are ignored, so a child sees what a thread
 * sees. `members` adds properties (Array's lock methods, its reducer).
 * @example
 * const arr = remoteArray(core, 'd', 0, 8); arr[0] = 1.5; arr.reduce((a, b) => a + b)
 */
export function remoteArray(
  core: BufferCoreApi,
  typecode: Typecode,
  offset: number,
  length: number,
  members: object = {},
): object {
  const Base = kTypedArrays[typecode] as unknown as Ctor & { BYTES_PER_ELEMENT: number };
  // Converts a value as storing it in a typed array of this kind does (same errors).
  const cell = new Base(1) as { [i: number]: number | bigint };
  const convert = (value: unknown): number | bigint => {
    cell[0] = value as number;
    return cell[0]!;
  };
  const index = (key: string | symbol): number | undefined => {
    const n = numericKey(key);
    if (n === undefined) return undefined;
    return Number.isInteger(n) && !Object.is(n, -0) && n >= 0 && n < length ? n : -1;
  };
  const clamp = (i: number | undefined, dflt: number) => {
    if (i === undefined) return dflt;
    const n = Math.trunc(Number(i)) || 0;
    return n < 0 ? Math.max(0, length + n) : Math.min(n, length);
  };
  const copy = (): AnyTypedArray =>
    length > 0 ? core.read(offset, offset + length) : (new Base(0) as AnyTypedArray);
  const methods: Record<string | symbol, unknown> = {
    length,
    byteLength: length * Base.BYTES_PER_ELEMENT,
    BYTES_PER_ELEMENT: Base.BYTES_PER_ELEMENT,
    typecode,
    slice: (begin?: number, end?: number) => {
      const b = clamp(begin, 0);
      const e = clamp(end, length);
      return e > b ? core.read(offset + b, offset + e) : new Base(0);
    },
    subarray: (begin?: number, end?: number) => {
      const b = clamp(begin, 0);
      const e = clamp(end, length);
      return remoteArray(core, typecode, offset + b, Math.max(0, e - b));
    },
    set: (values: ArrayLike<unknown>, at: number = 0) => {
      const start = Math.trunc(Number(at)) || 0;
      const source = new Base(values.length);
      (source as { set(v: ArrayLike<unknown>): void }).set(values);
      if (start < 0 || start + source.length > length)
        throw new RangeError('offset is out of bounds');
      if (source.length > 0) core.write(offset + start, source);
    },
    at: (i: number) => {
      const n = Math.trunc(Number(i)) || 0;
      const k = n < 0 ? length + n : n;
      return k >= 0 && k < length ? core.get(offset + k) : undefined;
    },
    fill: (value: unknown, begin?: number, end?: number) => {
      const v = convert(value);
      const b = clamp(begin, 0);
      const e = clamp(end, length);
      if (e > b) core.write(offset + b, new globalThis.Array(e - b).fill(v));
      return proxy;
    },
    toArray: () => globalThis.Array.from(copy() as ArrayLike<number | bigint>),
    [Symbol.iterator]: function* () {
      yield* copy() as Iterable<number | bigint>;
    },
    [Symbol.toStringTag]: `Remote${Base.name}`,
    [inspect.custom]: (_depth: number, options: object) =>
      `Remote${inspect(copy(), options as Parameters<typeof inspect>[1])}`,
    // Sent on (a result, a queue item), a view travels as a copy of its elements, as a typed
    // array sent to a process does; Array's members replace this with its shared handle.
    [kReduce]: () => ({ kind: kCopyKind, state: copy() }),
  };
  const target = Object.assign(Object.create(null), methods, members) as Record<
    string | symbol,
    unknown
  >;
  const copyMethod = (key: string | symbol) => {
    const method = Reflect.get(kTypedArrayProto, key) as (...args: unknown[]) => unknown;
    return (...args: unknown[]) => {
      const elements = copy();
      const result = method.apply(elements, args);
      if (kWritingMethods.has(key) && length > 0) core.write(offset, elements);
      return result === elements ? proxy : result;
    };
  };
  const proxy: object = new Proxy(target, {
    get(t, key, receiver) {
      const i = index(key);
      if (i !== undefined) return i >= 0 ? core.get(offset + i) : undefined;
      if (!(key in t) && kCopyMethods.has(key)) return copyMethod(key);
      return Reflect.get(t, key, receiver);
    },
    set(t, key, value) {
      const i = index(key);
      if (i !== undefined) {
        const v = convert(value); // converted (and refused) even out of range, as typed arrays do
        if (i >= 0) core.set(offset + i, v);
        return true;
      }
      if (key in t || kCopyMethods.has(key)) return false; // read-only, as on a typed array
      return Reflect.set(t, key, value);
    },
    has(t, key) {
      const i = index(key);
      if (i !== undefined) return i >= 0;
      return Reflect.has(t, key) || kCopyMethods.has(key);
    },
    deleteProperty(t, key) {
      const i = index(key);
      if (i !== undefined) return i < 0;
      return Reflect.deleteProperty(t, key);
    },
    defineProperty(t, key, descriptor) {
      return index(key) === undefined && Reflect.defineProperty(t, key, descriptor);
    },
    // Own properties are the elements, as on a typed array: Object.keys, JSON.stringify and
    // spreading into an object see indices only (reading them is one round trip each).
    ownKeys() {
      return globalThis.Array.from({ length }, (_, i) => String(i));
    },
    getOwnPropertyDescriptor(_t, key) {
      const i = index(key);
      if (i === undefined || i < 0) return undefined;
      return { value: core.get(offset + i), writable: true, enumerable: true, configurable: true };
    },
  });
  return proxy;
}
