// The typed proxies of the SyncManager's data types: dict, list, Namespace, Value, Array, Queue and JoinableQueue.
import { BaseProxy, type ProxyToken, registerProxyType } from './proxy.ts';
import type { ProxyAcquireOptions } from './sync-proxies.ts';

export type { ProxyAcquireOptions } from './sync-proxies.ts';
export {
  LockProxy,
  RLockProxy,
  SemaphoreProxy,
  BoundedSemaphoreProxy,
  ConditionProxy,
  EventProxy,
  BarrierProxy,
} from './sync-proxies.ts';

/**
 * A dict held by a manager: a Map's methods (`get`, `set`, `has`, `delete`, `entries`, `size`)
 * and Python's dict methods (`items`, `update`, `pop`, `popitem`, `setdefault`, `copy`,
 * `clear`), all async. Keys compare as Map keys do (use strings or numbers). Values are copies:
 * after changing a nested object in place, `set` it again (the assign-back pattern).
 * @example
 * const d = await manager.dict<string, { hits: number }>({ home: { hits: 0 } })
 * const page = (await d.get('home'))!
 * page.hits += 1           // only the local copy changed
 * await d.set('home', page) // assign it back
 */
export class DictProxy<K = string, V = unknown> extends BaseProxy {
  /** The value of `key`, or `defaultValue` (undefined) when absent. */
  get(key: K): Promise<V | undefined>;
  get(key: K, defaultValue: V): Promise<V>;
  get(key: K, defaultValue?: V): Promise<V | undefined> {
    return this.callMethod('get', [key, defaultValue]) as Promise<V | undefined>;
  }
  /** Sets `key` to `value`. */
  set(key: K, value: V): Promise<void> {
    return this.callMethod('set', [key, value]) as Promise<void>;
  }
  /** Whether `key` is present. */
  has(key: K): Promise<boolean> {
    return this.callMethod('has', [key]) as Promise<boolean>;
  }
  /** Removes `key`; resolves to whether it was present. */
  delete(key: K): Promise<boolean> {
    return this.callMethod('delete', [key]) as Promise<boolean>;
  }
  /** The keys, in insertion order. */
  keys(): Promise<K[]> {
    return this.callMethod('keys') as Promise<K[]>;
  }
  /** The values, in insertion order. */
  values(): Promise<V[]> {
    return this.callMethod('values') as Promise<V[]>;
  }
  /** The [key, value] pairs, in insertion order. */
  entries(): Promise<[K, V][]> {
    return this.callMethod('entries') as Promise<[K, V][]>;
  }
  /** The number of keys. */
  size(): Promise<number> {
    return this.callMethod('size') as Promise<number>;
  }
  /** Sets every pair of `other` (a Map, an array of pairs, or a plain object). */
  update(
    other: Map<K, V> | readonly (readonly [K, V])[] | (K extends string ? Record<K, V> : never),
  ): Promise<void> {
    return this.callMethod('update', [other]) as Promise<void>;
  }
  /** Removes `key` and resolves to its value, or to `defaultValue` (undefined) when absent. */
  pop(key: K, defaultValue?: V): Promise<V | undefined> {
    return this.callMethod('pop', [key, defaultValue]) as Promise<V | undefined>;
  }
  /** The value of `key`; sets it to `defaultValue` first when absent. */
  setdefault(key: K, defaultValue: V): Promise<V> {
    return this.callMethod('setdefault', [key, defaultValue]) as Promise<V>;
  }
  /** Removes every key. */
  clear(): Promise<void> {
    return this.callMethod('clear') as Promise<void>;
  }
  /** A plain-object copy (keys turned into strings). */
  toObject(): Promise<Record<string, V>> {
    return this.callMethod('toObject') as Promise<Record<string, V>>;
  }
  /** Python's name for {@link entries}: the [key, value] pairs, in insertion order. */
  items(): Promise<[K, V][]> {
    return this.callMethod('items') as Promise<[K, V][]>;
  }
  /** Removes and resolves to the last inserted [key, value] pair; RangeError when empty. */
  popitem(): Promise<[K, V]> {
    return this.callMethod('popitem') as Promise<[K, V]>;
  }
  /** A copy as a Map (keys keep their types). */
  copy(): Promise<Map<K, V>> {
    return this.callMethod('copy') as Promise<Map<K, V>>;
  }
}

/**
 * A list held by a manager, with Python's list methods (`append`, `extend`, `insert`, `pop`,
 * `remove`, `index`, `count`, `reverse`, `sort`, `copy`, `clear`), all async. Indices may be
 * negative.
 * @example
 * const l = await manager.list<number>([1, 2])
 * await l.append(3); console.log(await l.toArray()) // [1, 2, 3]
 */
export class ListProxy<T = unknown> extends BaseProxy {
  /** The item at `index` (negative counts from the end); RangeError when out of range. */
  get(index: number): Promise<T> {
    return this.callMethod('get', [index]) as Promise<T>;
  }
  /** Replaces the item at `index`; RangeError when out of range. */
  set(index: number, value: T): Promise<void> {
    return this.callMethod('set', [index, value]) as Promise<void>;
  }
  /** Adds `value` at the end. */
  append(value: T): Promise<void> {
    return this.callMethod('append', [value]) as Promise<void>;
  }
  /** Adds every value of `values` at the end. */
  extend(values: readonly T[]): Promise<void> {
    return this.callMethod('extend', [values]) as Promise<void>;
  }
  /** Inserts `value` before `index` (clamped, as Python does). */
  insert(index: number, value: T): Promise<void> {
    return this.callMethod('insert', [index, value]) as Promise<void>;
  }
  /** Removes and resolves to the item at `index` (default: the last); RangeError when empty. */
  pop(index?: number): Promise<T> {
    return this.callMethod('pop', index === undefined ? [] : [index]) as Promise<T>;
  }
  /** Removes the first item deeply equal to `value`; RangeError when there is none. */
  remove(value: T): Promise<void> {
    return this.callMethod('remove', [value]) as Promise<void>;
  }
  /** The position of the first item deeply equal to `value`; RangeError when there is none. */
  index(value: T): Promise<number> {
    return this.callMethod('index', [value]) as Promise<number>;
  }
  /** The number of items. */
  length(): Promise<number> {
    return this.callMethod('length') as Promise<number>;
  }
  /** A copy of the items. */
  toArray(): Promise<T[]> {
    return this.callMethod('toArray') as Promise<T[]>;
  }
  /** Removes every item. */
  clear(): Promise<void> {
    return this.callMethod('clear') as Promise<void>;
  }
  /** How many items are deeply equal to `value`. */
  count(value: T): Promise<number> {
    return this.callMethod('count', [value]) as Promise<number>;
  }
  /** Reverses the items in place. */
  reverse(): Promise<void> {
    return this.callMethod('reverse') as Promise<void>;
  }
  /**
   * Sorts in place, stably, as Python does: numbers (and bigints) by value, strings by code
   * point; a list that mixes them rejects with TypeError. `reverse: true` sorts descending.
   */
  sort(options?: { reverse?: boolean }): Promise<void> {
    return this.callMethod('sort', options === undefined ? [] : [options]) as Promise<void>;
  }
  /** A copy of the items (as {@link toArray}). */
  copy(): Promise<T[]> {
    return this.callMethod('copy') as Promise<T[]>;
  }
}

/**
 * Python's Namespace held by a manager: named values read and written with async get/set.
 * @example
 * const ns = await manager.Namespace({ x: 1 })
 * await ns.set('y', 2); console.log(await ns.toObject()) // { x: 1, y: 2 }
 */
export class NamespaceProxy<T extends object = Record<string, unknown>> extends BaseProxy {
  /** The value named `name` (undefined when unset). */
  get<N extends keyof T & string>(name: N): Promise<T[N]> {
    return this.callMethod('get', [name]) as Promise<T[N]>;
  }
  /** Sets the value named `name`. */
  set<N extends keyof T & string>(name: N, value: T[N]): Promise<void> {
    return this.callMethod('set', [name, value]) as Promise<void>;
  }
  /** Removes the value named `name`; resolves to whether it was set. */
  delete(name: keyof T & string): Promise<boolean> {
    return this.callMethod('delete', [name]) as Promise<boolean>;
  }
  /** A plain-object copy of every value. */
  toObject(): Promise<T> {
    return this.callMethod('toObject') as Promise<T>;
  }
}

/**
 * One value held by a manager (Python's `manager.Value`); the typecode is recorded, not enforced.
 * @example
 * const v = await manager.Value('i', 0)
 * await v.set(41 + 1); console.log(await v.get()) // 42
 */
export class ValueProxy<T = unknown> extends BaseProxy {
  /** The current value. */
  get(): Promise<T> {
    return this.callMethod('get') as Promise<T>;
  }
  /** Replaces the value. */
  set(value: T): Promise<void> {
    return this.callMethod('set', [value]) as Promise<void>;
  }
}

/**
 * A fixed-length typed array held by a manager (Python's `manager.Array`).
 * @example
 * const a = await manager.Array('d', [0.5, 1.5])
 * await a.set(0, 2); console.log(await a.toArray()) // [2, 1.5]
 */
export class ArrayProxy<T extends number | bigint = number> extends BaseProxy {
  /** The element at `index` (negative counts from the end). */
  get(index: number): Promise<T> {
    return this.callMethod('get', [index]) as Promise<T>;
  }
  /** Replaces the element at `index`. */
  set(index: number, value: T): Promise<void> {
    return this.callMethod('set', [index, value]) as Promise<void>;
  }
  /** The number of elements. */
  length(): Promise<number> {
    return this.callMethod('length') as Promise<number>;
  }
  /** A copy of the elements as a plain array. */
  toArray(): Promise<T[]> {
    return this.callMethod('toArray') as Promise<T[]>;
  }
}

/**
 * A queue held by a manager (Python's queue.Queue): `get` rejects with Empty, `put` with Full.
 * @example
 * const q = await manager.Queue<string>()
 * await q.put('job'); console.log(await q.get()) // 'job'
 */
export class QueueProxy<T = unknown> extends BaseProxy {
  /** Adds `item`, waiting for room in a bounded queue unless `block` is false or `timeout` passes (Full). */
  put(item: T, options?: ProxyAcquireOptions): Promise<void> {
    return this.callMethod(
      'put',
      options === undefined ? [item] : [item, options],
    ) as Promise<void>;
  }
  /** Removes the oldest item, waiting unless `block` is false or `timeout` passes (Empty). */
  get(options?: ProxyAcquireOptions): Promise<T> {
    return this.callMethod('get', options === undefined ? [] : [options]) as Promise<T>;
  }
  /** `put` without waiting. */
  putNowait(item: T): Promise<void> {
    return this.callMethod('putNowait', [item]) as Promise<void>;
  }
  /** `get` without waiting. */
  getNowait(): Promise<T> {
    return this.callMethod('getNowait') as Promise<T>;
  }
  /** The number of items. */
  qsize(): Promise<number> {
    return this.callMethod('qsize') as Promise<number>;
  }
  /** Whether the queue has no item. */
  empty(): Promise<boolean> {
    return this.callMethod('empty') as Promise<boolean>;
  }
  /** Whether a bounded queue is at its size. */
  full(): Promise<boolean> {
    return this.callMethod('full') as Promise<boolean>;
  }
}

/**
 * A queue with task accounting: `join()` waits until every item put has had its `taskDone()`.
 * @example
 * const q = await manager.JoinableQueue<number>()
 * await q.put(1); await q.get(); await q.taskDone(); await q.join()
 */
export class JoinableQueueProxy<T = unknown> extends QueueProxy<T> {
  /** Marks one item taken with `get` as processed. */
  taskDone(): Promise<void> {
    return this.callMethod('taskDone') as Promise<void>;
  }
  /** Resolves once every item put has been marked done. */
  join(): Promise<void> {
    return this.callMethod('join') as Promise<void>;
  }
}

const kBuiltinProxies: Record<string, new (token: ProxyToken) => BaseProxy> = {
  DictProxy,
  ListProxy,
  NamespaceProxy,
  ValueProxy,
  ArrayProxy,
  QueueProxy,
  JoinableQueueProxy,
};
for (const [name, cls] of Object.entries(kBuiltinProxies)) registerProxyType(name, cls);
