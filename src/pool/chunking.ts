// How pool work is cut up for the wire: Python's chunk sizes, lazy reading, number packing, function reuse.
import { type FnRef, reduceFunction } from '../reduction/functions.ts';
import { checkInteger, invalidArg } from '../validate.ts';

/** Chunks at least this long whose items are all numbers travel as a Float64Array (exact, and ~4× faster to move). */
export const kPackThreshold = 16;

/**
 * Python's default chunksize for `map`: `ceil(n / (4 × workers))`, 0 for an empty input.
 * @example
 * defaultChunksize(100, 3) // 9
 */
export function defaultChunksize(n: number, workers: number): number {
  return n === 0 ? 0 : Math.ceil(n / (4 * workers));
}

/**
 * Validates an explicit chunksize: TypeError for a non-integer, RangeError below 1.
 * @example
 * checkChunksize(0) // throws RangeError
 */
export function checkChunksize(value: unknown, name = 'chunksize'): asserts value is number {
  checkInteger(value, name, 1);
}

/**
 * Copies `items[start, end)` into a Float64Array when every one is a number, else returns null.
 * A Float64Array holds every JS number exactly (−0 and NaN included).
 * @example
 * packNumbers([1, 2, 3], 0, 3) // Float64Array [1, 2, 3]
 */
export function packNumbers(
  items: readonly unknown[],
  start: number,
  end: number,
): Float64Array | null {
  const out = new Float64Array(end - start);
  for (let i = start; i < end; i++) {
    const x = items[i];
    if (typeof x !== 'number') return null;
    out[i - start] = x;
  }
  return out;
}

// Self-contained functions by source text: `pool.apply((i) => i + 1, [i])` in a loop makes a new
// function object each time, and re-parsing it (then recompiling it in the worker) would cost
// far more than the task. Only 'source' wire forms are shared: they depend on nothing but the text.
const bySource = new Map<string, FnRef>();
const kSourceCacheLimit = 512;

/**
 * The wire form of a task function (see reduceFunction), shared between function objects with
 * the same self-contained source.
 * @example
 * reduceTaskFunction((x: number) => x * 2).kind // 'source'
 */
export function reduceTaskFunction(fn: unknown): FnRef {
  if (typeof fn !== 'function') return reduceFunction(fn, 'the task function');
  const source = Function.prototype.toString.call(fn);
  const hit = bySource.get(source);
  if (hit) return hit;
  const ref = reduceFunction(fn, 'the task function');
  if (ref.kind === 'source') {
    if (bySource.size >= kSourceCacheLimit) bySource.clear();
    bySource.set(source, ref);
  }
  return ref;
}

/** Whether `value` can be iterated asynchronously. */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    value !== undefined &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

/** Whether `value` can be iterated synchronously (strings excluded: a string is almost always a mistake). */
export function isIterable(value: unknown): value is Iterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function'
  );
}

/** Throws the house TypeError unless `value` is an iterable or an async iterable. */
export function checkIterable(value: unknown, name = 'iterable'): void {
  if (!isIterable(value) && !isAsyncIterable(value))
    invalidArg(name, 'an iterable or an async iterable', value);
}

/**
 * Reads a whole input into an array (an array is used as is, not copied).
 * @example
 * await collect(new Set([1, 2])) // [1, 2]
 */
export async function collect<T>(input: Iterable<T> | AsyncIterable<T>): Promise<readonly T[]> {
  if (Array.isArray(input)) return input as T[];
  if (isIterable(input)) return Array.from(input as Iterable<T>);
  const out: T[] = [];
  for await (const item of input as AsyncIterable<T>) out.push(item);
  return out;
}

/** A uniform pull interface over sync and async iterators, read one chunk at a time. */
export class ChunkReader<T> {
  #sync: Iterator<T> | null = null;
  #async: AsyncIterator<T> | null = null;
  #done = false;

  constructor(input: Iterable<T> | AsyncIterable<T>) {
    if (isAsyncIterable(input)) this.#async = (input as AsyncIterable<T>)[Symbol.asyncIterator]();
    else this.#sync = (input as Iterable<T>)[Symbol.iterator]();
  }

  /** Whether the input is exhausted. */
  get done(): boolean {
    return this.#done;
  }

  /** Reads up to `size` items; fewer (maybe none) at the end. Errors of the input propagate. */
  async read(size: number): Promise<T[]> {
    const out: T[] = [];
    try {
      while (!this.#done && out.length < size) {
        const r = this.#sync ? this.#sync.next() : await this.#async!.next();
        if (r.done) this.#done = true;
        else out.push(r.value);
      }
    } catch (error) {
      this.#done = true;
      throw error;
    }
    return out;
  }

  /** Closes the input early (runs a generator's `finally`); errors from closing are ignored. */
  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    try {
      if (this.#sync) this.#sync.return?.();
      else await this.#async!.return?.();
    } catch {
      // The iterator failed while closing: nothing is waiting for it any more.
    }
  }
}
