// What a ctypes-like typecode means: its typed array, the values its elements accept, its buffer size.
import { checkOneOf, invalidArg } from '../validate.ts';
import { type Memory, allocateShared, kLocalMemory } from './memory.ts';

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
    return invalidArg(name, 'a bigint or an integer', value);
  }
  const float = typecode === 'f' || typecode === 'd';
  if (typeof value === 'number' && (float || Number.isInteger(value))) return value;
  return invalidArg(name, float ? 'a number' : 'an integer', value);
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

/** A zeroed shared buffer from `memory` for `length` elements of `typecode`. */
export function allocate(
  typecode: Typecode,
  length: number,
  memory: Memory = kLocalMemory,
): SharedArrayBuffer {
  const bytes = Math.max(1, length) * kTypedArrays[typecode].BYTES_PER_ELEMENT;
  return allocateShared(bytes, undefined, memory);
}
