// ShareableList: a fixed-length list of small values stored in one SharedMemory block, as Python's.
import { inspect, types } from 'node:util';
import { kReduce, noteReducible, registerReviver, type Destination } from './reduction/values.ts';
import { SharedMemory } from './shared-memory.ts';
import { checkKnown, checkString, describe, invalidArg } from './validate.ts';

/** What a ShareableList holds. */
export type ShareableItem = number | bigint | boolean | string | Uint8Array | null;

// Layout (little-endian): [length:i32, version:i32], then per slot a 16-byte header
// [type:i32, capacity:i32, offset:i32, used:i32], then the slots' data, 8-byte aligned.
const kHeader = 8;
const kSlotHeader = 16;
const kAlignment = 8;
const enum Type {
  Null = 0,
  Number = 1,
  BigInt = 2,
  Boolean = 3,
  String = 4,
  Bytes = 5,
}
const kFormat: Record<Type, string> = { 0: 'x', 1: 'd', 2: 'q', 3: '?', 4: 's', 5: 'y' };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function outOfRange(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' });
}

/** Type, encoded bytes and slot size of one item; throws TypeError for other types. */
function encodeItem(item: unknown, where: string): { type: Type; bytes: Uint8Array; size: number } {
  const fixed = (type: Type, write: (v: DataView) => void) => {
    const bytes = new Uint8Array(8);
    write(new DataView(bytes.buffer));
    return { type, bytes, size: 8 };
  };
  if (item === null || item === undefined)
    return { type: Type.Null, bytes: new Uint8Array(0), size: 8 };
  if (typeof item === 'number') return fixed(Type.Number, (v) => v.setFloat64(0, item, true));
  if (typeof item === 'bigint') {
    if (item < -(2n ** 63n) || item >= 2n ** 63n)
      throw outOfRange(`Expected ${where} to fit in 64 bits, got ${describe(item)}`);
    return fixed(Type.BigInt, (v) => v.setBigInt64(0, item, true));
  }
  if (typeof item === 'boolean') return fixed(Type.Boolean, (v) => v.setUint8(0, item ? 1 : 0));
  const variable = (type: Type, bytes: Uint8Array) => ({
    type,
    bytes,
    size: kAlignment * (Math.floor(bytes.byteLength / kAlignment) + 1),
  });
  if (typeof item === 'string') return variable(Type.String, encoder.encode(item));
  if (item instanceof Uint8Array) return variable(Type.Bytes, item.slice());
  return invalidArg(where, 'a number, bigint, boolean, string, Uint8Array or null', item);
}

function sameItem(a: ShareableItem, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
  }
  return Object.is(a, b) || a === b;
}

/** Options of {@link ShareableList}. */
export interface ShareableListOptions {
  /** The SharedMemory block's name: attach to it when `sequence` is omitted, else create it. */
  name?: string | undefined;
}

const kIndex = /^-?\d+$/;

/**
 * A fixed-length list in shared memory, as Python's `shared_memory.ShareableList`: items are
 * numbers, bigints, booleans, strings, Uint8Arrays or null; `sl[i]` reads and writes them
 * (negative indices count from the end); an item may change type if it fits its slot (strings
 * and bytes get `8 × (⌊bytes/8⌋ + 1)` bytes). It travels to workers, and attaches by name.
 * No lock is taken: guard read-modify-write sequences with a Lock.
 * @example
 * const sl = new mp.ShareableList([1, 'two', true, null])
 * sl[1] = 'deux'
 * const same = new mp.ShareableList(null, { name: sl.shm.name }) // attach elsewhere
 */
export class ShareableList {
  /** Element access by index: `sl[0]`, `sl[-1]`. */
  [index: number]: ShareableItem;
  readonly #shm: SharedMemory;
  readonly #length: number;

  constructor(sequence?: Iterable<ShareableItem> | null, options: ShareableListOptions = {}) {
    checkKnown(options, 'options', ['name']);
    checkString(options.name, 'name');
    noteReducible();
    if (sequence === undefined || sequence === null) {
      if (options.name === undefined) {
        throw new TypeError(
          'Expected `sequence` or `options.name`: a ShareableList is created from items or attached by name',
        );
      }
      this.#shm = new SharedMemory({ name: options.name }); // FileNotFoundError when missing
    } else {
      if (
        typeof (sequence as Iterable<unknown>)[Symbol.iterator] !== 'function' ||
        typeof sequence === 'string'
      ) {
        invalidArg('sequence', 'an iterable of items', sequence);
      }
      const items = [...sequence].map((item, i) => encodeItem(item, `sequence[${i}]`));
      const dataStart = kHeader + kSlotHeader * items.length;
      const size = dataStart + items.reduce((n, it) => n + it.size, 0);
      this.#shm = new SharedMemory({ create: true, size: Math.max(size, 8), name: options.name });
      const image = new Uint8Array(size);
      const view = new DataView(image.buffer);
      view.setInt32(0, items.length, true);
      let offset = dataStart;
      items.forEach((it, i) => {
        const h = kHeader + i * kSlotHeader;
        view.setInt32(h, it.type, true);
        view.setInt32(h + 4, it.size, true);
        view.setInt32(h + 8, offset, true);
        view.setInt32(h + 12, it.bytes.byteLength, true);
        image.set(it.bytes, offset);
        offset += it.size;
      });
      this.#write(0, image);
    }
    this.#length = new DataView(this.#read(0, 4).slice().buffer).getInt32(0, true);
    // Index access goes through a Proxy so that `sl[i]` behaves like a list element.
    return new Proxy(this, {
      get: (target, key) => {
        if (typeof key === 'string' && kIndex.test(key)) return target.get(Number(key));
        // Members run on the target itself: private fields are not reachable through a Proxy.
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
      set: (target, key, value) => {
        if (typeof key === 'string' && kIndex.test(key)) {
          target.set(Number(key), value as ShareableItem);
          return true;
        }
        return Reflect.set(target, key, value, target);
      },
      has: (target, key) =>
        typeof key === 'string' && kIndex.test(key)
          ? Number(key) < target.#length
          : Reflect.has(target, key),
    });
  }

  // Bulk access works in every context: directly on the bytes here, through the broker's core in
  // a child process (one round trip per call, not per byte).
  #read(start: number, length: number): Uint8Array {
    const buf = this.#shm.buf;
    if (buf instanceof Uint8Array && !types.isProxy(buf))
      return buf.subarray(start, start + length);
    return this.#shm.core.read(start, length) as Uint8Array;
  }

  #write(start: number, bytes: Uint8Array): void {
    const buf = this.#shm.buf;
    if (buf instanceof Uint8Array && !types.isProxy(buf)) buf.set(bytes, start);
    else this.#shm.core.write(start, bytes);
  }

  #slot(
    index: number,
    assigning: boolean,
  ): { header: number; type: Type; capacity: number; offset: number; used: number } {
    if (typeof index !== 'number' || !Number.isInteger(index))
      invalidArg('index', 'an integer', index);
    const i = index < 0 ? index + this.#length : index;
    if (i < 0 || i >= this.#length)
      throw outOfRange(assigning ? 'assignment index out of range' : 'index out of range');
    const header = kHeader + i * kSlotHeader;
    const bytes = this.#read(header, kSlotHeader).slice();
    const v = new DataView(bytes.buffer);
    return {
      header,
      type: v.getInt32(0, true),
      capacity: v.getInt32(4, true),
      offset: v.getInt32(8, true),
      used: v.getInt32(12, true),
    };
  }

  /** The item at `index` (negative counts from the end); RangeError outside the list. */
  get(index: number): ShareableItem {
    const slot = this.#slot(index, false);
    const data = this.#read(slot.offset, Math.max(slot.used, 8)).slice();
    const v = new DataView(data.buffer);
    switch (slot.type) {
      case Type.Null:
        return null;
      case Type.Number:
        return v.getFloat64(0, true);
      case Type.BigInt:
        return v.getBigInt64(0, true);
      case Type.Boolean:
        return v.getUint8(0) === 1;
      case Type.String:
        return decoder.decode(data.subarray(0, slot.used));
      case Type.Bytes:
        return data.slice(0, slot.used);
      default:
        throw new Error(`assertion failed: unknown ShareableList slot type ${slot.type as number}`);
    }
  }

  /** Replaces the item at `index`; RangeError if a string/bytes item exceeds its slot. */
  set(index: number, item: ShareableItem): void {
    const slot = this.#slot(index, true);
    const it = encodeItem(item, 'item');
    if (it.bytes.byteLength > slot.capacity || (it.size === 8 && slot.capacity < 8)) {
      throw outOfRange(
        `bytes/str item exceeds available storage: ${it.bytes.byteLength} bytes into a slot of ${slot.capacity}`,
      );
    }
    this.#write(slot.offset, it.bytes);
    const header = new Uint8Array(8);
    const v = new DataView(header.buffer);
    v.setInt32(0, it.type, true);
    v.setInt32(4, slot.capacity, true);
    this.#write(slot.header, header);
    const used = new Uint8Array(4);
    new DataView(used.buffer).setInt32(0, it.bytes.byteLength, true);
    this.#write(slot.header + 12, used);
  }

  /** The number of items (fixed). */
  get length(): number {
    return this.#length;
  }

  /** The SharedMemory block holding the list. */
  get shm(): SharedMemory {
    return this.#shm;
  }

  /** One code per slot: `d` number, `q` bigint, `?` boolean, `x` null, `<bytes>s` string, `<bytes>y` Uint8Array. */
  get format(): string {
    let out = '';
    for (let i = 0; i < this.#length; i++) {
      const slot = this.#slot(i, false);
      out +=
        slot.type === Type.String || slot.type === Type.Bytes
          ? `${slot.capacity}${kFormat[slot.type]}`
          : kFormat[slot.type as Type];
    }
    return out;
  }

  /** How many items equal `value`. */
  count(value: ShareableItem): number {
    let n = 0;
    for (const item of this) if (sameItem(item, value)) n++;
    return n;
  }

  /** The first index of `value`; RangeError if it is not in the list (Python's ValueError). */
  index(value: ShareableItem): number {
    let i = 0;
    for (const item of this) {
      if (sameItem(item, value)) return i;
      i++;
    }
    throw outOfRange(`${describe(value)} is not in the ShareableList`);
  }

  /** The items, in order. */
  *[Symbol.iterator](): IterableIterator<ShareableItem> {
    for (let i = 0; i < this.#length; i++) yield this.get(i);
  }

  /** A plain array copy of the items. */
  toArray(): ShareableItem[] {
    return [...this];
  }

  /** @internal Travels as its SharedMemory block. */
  [kReduce](_destination: Destination): { kind: string; state: { shm: SharedMemory } } {
    return { kind: 'shared:ShareableList', state: { shm: this.#shm } };
  }

  /** Python's repr: `ShareableList([1, 'two'], name='psm_…')`. */
  toString(): string {
    return `ShareableList(${inspect(this.toArray())}, name='${this.#shm.name}')`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

registerReviver(
  'shared:ShareableList',
  (s: { shm: SharedMemory }) => new ShareableList(null, { name: s.shm.name }),
);
