// The data objects a manager server holds: dict, list, Namespace, Value and Array.
import { isDeepStrictEqual } from 'node:util';
import { kTypedArrays, type Typecode } from '../shared/typecodes.ts';
import {
  checkBoolean,
  checkInteger,
  checkKnown,
  checkOneOf,
  checkString,
  describe,
  invalidArg,
  outOfRange,
} from '../validate.ts';

/** Turns a dict initializer (Map, array of pairs, plain object) into entries. */
export function entriesOf(init: unknown, name = 'init'): [unknown, unknown][] {
  if (init === undefined || init === null) return [];
  if (init instanceof Map) return [...init];
  if (Array.isArray(init)) {
    return init.map((pair) => {
      if (!Array.isArray(pair) || pair.length !== 2)
        invalidArg(name, 'an array of [key, value] pairs', init);
      return [pair[0], pair[1]] as [unknown, unknown];
    });
  }
  if (typeof init === 'object') return Object.entries(init);
  invalidArg(name, 'a Map, an array of [key, value] pairs or a plain object', init);
}

/** A Map with Python's dict methods; keys compare as Map keys do (primitives by value). */
export class DictReferent {
  readonly #map: Map<unknown, unknown>;

  constructor(init?: unknown) {
    this.#map = new Map(entriesOf(init));
  }
  get(key: unknown, defaultValue?: unknown): unknown {
    return this.#map.has(key) ? this.#map.get(key) : defaultValue;
  }
  set(key: unknown, value: unknown): void {
    this.#map.set(key, value);
  }
  has(key: unknown): boolean {
    return this.#map.has(key);
  }
  delete(key: unknown): boolean {
    return this.#map.delete(key);
  }
  keys(): unknown[] {
    return [...this.#map.keys()];
  }
  values(): unknown[] {
    return [...this.#map.values()];
  }
  entries(): [unknown, unknown][] {
    return [...this.#map.entries()];
  }
  size(): number {
    return this.#map.size;
  }
  update(other: unknown): void {
    for (const [key, value] of entriesOf(other, 'other')) this.#map.set(key, value);
  }
  pop(key: unknown, defaultValue?: unknown): unknown {
    if (!this.#map.has(key)) return defaultValue;
    const value = this.#map.get(key);
    this.#map.delete(key);
    return value;
  }
  setdefault(key: unknown, defaultValue?: unknown): unknown {
    if (!this.#map.has(key)) this.#map.set(key, defaultValue);
    return this.#map.get(key);
  }
  clear(): void {
    this.#map.clear();
  }
  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.#map as Map<PropertyKey, unknown>);
  }
  // Python's names for what a Map calls otherwise, and Python's methods a Map has no form of.
  items(): [unknown, unknown][] {
    return this.entries();
  }
  popitem(): [unknown, unknown] {
    if (this.#map.size === 0)
      throw Object.assign(new RangeError('popitem(): dictionary is empty'), {
        code: 'ERR_OUT_OF_RANGE',
      });
    const last = [...this.#map.keys()].at(-1);
    const value = this.#map.get(last);
    this.#map.delete(last);
    return [last, value];
  }
  copy(): Map<unknown, unknown> {
    return new Map(this.#map);
  }
}

/** Python's ordering for sort(): numbers (and bigints) among themselves, strings among themselves. */
function compareItems(a: unknown, b: unknown): number {
  const kind = (v: unknown) => (typeof v === 'bigint' ? 'number' : typeof v);
  if (kind(a) !== kind(b) || (kind(a) !== 'number' && kind(a) !== 'string')) {
    throw Object.assign(
      new TypeError(
        `sort() compares numbers with numbers and strings with strings, got ${describe(a)} and ${describe(b)}`,
      ),
      { code: 'ERR_INVALID_ARG_TYPE' },
    );
  }
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/** Resolves a Python-style index (negative counts from the end) or throws RangeError. */
function position(index: any, length: number, what: string): number {
  if (!Number.isInteger(index)) invalidArg('index', 'an integer', index);
  const i = index < 0 ? index + length : index;
  if (i < 0 || i >= length) outOfRange('index', `${what} (length ${length})`, index);
  return i;
}

/** An array with Python's list methods; `remove`/`index` compare by deep equality, as Python's `==`. */
export class ListReferent {
  #items: unknown[];

  constructor(init?: unknown) {
    if (init !== undefined && init !== null && !Array.isArray(init))
      invalidArg('init', 'an array', init);
    this.#items = init ? [...(init as unknown[])] : [];
  }
  get(index: number): unknown {
    return this.#items[position(index, this.#items.length, 'a list index in range')];
  }
  set(index: number, value: unknown): void {
    this.#items[position(index, this.#items.length, 'a list index in range')] = value;
  }
  append(value: unknown): void {
    this.#items.push(value);
  }
  extend(values: unknown): void {
    if (!Array.isArray(values)) invalidArg('values', 'an array', values);
    for (const value of values) this.#items.push(value);
  }
  insert(index: number, value: unknown): void {
    if (!Number.isInteger(index)) invalidArg('index', 'an integer', index);
    // Python clamps an insert position instead of failing.
    const n = this.#items.length;
    const i = index < 0 ? Math.max(0, index + n) : Math.min(index, n);
    this.#items.splice(i, 0, value);
  }
  pop(index = -1): unknown {
    if (this.#items.length === 0)
      outOfRange('index', 'an index of a non-empty list (pop from empty list)', index);
    const i = position(index, this.#items.length, 'a list index in range');
    return this.#items.splice(i, 1)[0];
  }
  remove(value: unknown): void {
    this.#items.splice(this.index(value), 1);
  }
  index(value: unknown): number {
    const i = this.#items.findIndex((item) => isDeepStrictEqual(item, value));
    if (i < 0) outOfRange('value', 'an item of the list', value);
    return i;
  }
  length(): number {
    return this.#items.length;
  }
  toArray(): unknown[] {
    return [...this.#items];
  }
  clear(): void {
    this.#items = [];
  }
  count(value: unknown): number {
    return this.#items.filter((item) => isDeepStrictEqual(item, value)).length;
  }
  reverse(): void {
    this.#items.reverse();
  }
  sort(options?: { reverse?: boolean }): void {
    checkKnown(options, 'options', ['reverse']);
    checkBoolean(options?.reverse, 'options.reverse');
    const sign = options?.reverse ? -1 : 1;
    // Array.prototype.sort is stable, as Python's sort is; a copy is sorted so that a failed
    // comparison leaves the list as it was.
    this.#items = [...this.#items].sort((a, b) => sign * compareItems(a, b));
  }
  copy(): unknown[] {
    return [...this.#items];
  }
}

/** A bag of named values (Python's Namespace). */
export class NamespaceReferent {
  readonly #fields: Map<string, unknown>;

  constructor(init?: unknown) {
    if (init !== undefined && init !== null && (typeof init !== 'object' || Array.isArray(init)))
      invalidArg('init', 'a plain object', init);
    this.#fields = new Map(Object.entries((init as object | undefined) ?? {}));
  }
  get(name: string): unknown {
    checkString(name, 'name');
    return this.#fields.get(name);
  }
  set(name: string, value: unknown): void {
    checkString(name, 'name');
    if (name === undefined) invalidArg('name', 'a string', name);
    this.#fields.set(name, value);
  }
  delete(name: string): boolean {
    return this.#fields.delete(name);
  }
  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.#fields);
  }
}

/** One value of any cloneable type; as in Python, the typecode is recorded but not enforced. */
export class ValueReferent {
  readonly #typecode: string;
  #value: unknown;

  constructor(typecode: string, value?: unknown) {
    checkString(typecode, 'typecode');
    this.#typecode = typecode;
    this.#value = value;
  }
  get(): unknown {
    return this.#value;
  }
  set(value: unknown): void {
    this.#value = value;
  }
  typecode(): string {
    return this.#typecode;
  }
}

/** The typecodes a manager Array accepts: those of `mp.Array`, with the same typed arrays. */
export const kArrayTypes = kTypedArrays;

/** A typecode of {@link kArrayTypes}. */
export type ArrayTypecode = Typecode;

type Typed = InstanceType<(typeof kArrayTypes)[ArrayTypecode]>;

/** Checks that `value` can be stored under `typecode`: a bigint for l L q Q, a number otherwise. */
function checkElement(typecode: ArrayTypecode, value: unknown, name: string): void {
  const big = 'lLqQ'.includes(typecode);
  if (big ? typeof value !== 'bigint' : typeof value !== 'number')
    invalidArg(name, `${big ? 'a bigint' : 'a number'} (typecode '${typecode}')`, value);
}

/** A fixed-length typed array (Python's array.array held by the manager). */
export class ArrayReferent {
  readonly #data: Typed;
  readonly #typecode: ArrayTypecode;

  constructor(typecode: ArrayTypecode, sizeOrInit: number | readonly (number | bigint)[]) {
    checkOneOf(typecode, 'typecode', Object.keys(kArrayTypes) as ArrayTypecode[]);
    const Type = kArrayTypes[typecode];
    this.#typecode = typecode;
    if (typeof sizeOrInit === 'number') {
      checkInteger(sizeOrInit, 'sizeOrInit', 0);
      this.#data = new Type(sizeOrInit);
    } else if (Array.isArray(sizeOrInit)) {
      sizeOrInit.forEach((v, i) => checkElement(typecode, v, `sizeOrInit[${i}]`));
      this.#data = new Type(sizeOrInit.length);
      sizeOrInit.forEach((v, i) => ((this.#data as unknown as unknown[])[i] = v));
    } else {
      invalidArg('sizeOrInit', 'a length or an array of numbers', sizeOrInit);
    }
  }
  get(index: number): number | bigint {
    return this.#data[position(index, this.#data.length, 'an array index in range')]!;
  }
  set(index: number, value: number | bigint): void {
    checkElement(this.#typecode, value, 'value');
    (this.#data as unknown as unknown[])[
      position(index, this.#data.length, 'an array index in range')
    ] = value;
  }
  length(): number {
    return this.#data.length;
  }
  toArray(): (number | bigint)[] {
    return Array.from(this.#data as ArrayLike<number | bigint>);
  }
}
