// The typed proxies of the SyncManager's types: dict, list, Namespace, Value, Array, Queue and the synchronization objects.
import { checkOptions, checkTimeout } from '../validate.ts';
import { BaseProxy, type ProxyToken, registerProxyType } from './proxy.ts';

/** Options of `acquire`: `block` (default true) and `timeout` in ms (undefined waits forever). */
export interface ProxyAcquireOptions {
  block?: boolean;
  timeout?: number;
}

/**
 * A dict held by a manager: a Map with Python's dict methods, all async. Values are copies:
 * change a nested plain object, then `set` it again (see the docs' assign-back pattern).
 * @example
 * const d = await manager.dict<string, number>({ a: 1 })
 * await d.set('b', 2); console.log(await d.toObject()) // { a: 1, b: 2 }
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
}

/**
 * A list held by a manager, with Python's list methods, all async. Indices may be negative.
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

/**
 * A Lock held by a manager. Releasing an unlocked lock rejects with InvalidStateError
 * `ERR_LOCK_NOT_HELD` (the same error as `mp.Lock`; Python's manager raises RuntimeError).
 * @example
 * const lock = await manager.Lock()
 * await lock.withLock(async () => d.set('n', (await d.get('n'))! + 1))
 */
export class LockProxy extends BaseProxy {
  /** Takes the lock; resolves false if `block` is false or `timeout` ms pass first. */
  async acquire(options?: ProxyAcquireOptions): Promise<boolean> {
    checkOptions(options, 'options');
    checkTimeout(options?.timeout);
    return this.callMethod('acquire', options === undefined ? [] : [options]) as Promise<boolean>;
  }
  /** Releases the lock. */
  release(): Promise<void> {
    return this.callMethod('release') as Promise<void>;
  }
  /** Runs `fn` holding the lock, and releases it however `fn` ends. */
  async withLock<R>(fn: () => R | Promise<R>): Promise<R> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }
}

/**
 * A re-entrant lock held by a manager: its owner (one thread of one process) may take it again.
 * @example
 * const r = await manager.RLock(); await r.acquire(); await r.acquire(); await r.release(); await r.release()
 */
export class RLockProxy extends LockProxy {}

/**
 * A semaphore held by a manager.
 * @example
 * const s = await manager.Semaphore(2); await s.acquire(); console.log(await s.getValue()) // 1
 */
export class SemaphoreProxy extends LockProxy {
  /** The current counter. */
  getValue(): Promise<number> {
    return this.callMethod('getValue') as Promise<number>;
  }
}

/**
 * A semaphore that rejects a release above its start value (InvalidStateError `ERR_RELEASED_TOO_MANY_TIMES`).
 * @example
 * const s = await manager.BoundedSemaphore(1); await s.release().catch((e) => e.code)
 */
export class BoundedSemaphoreProxy extends SemaphoreProxy {}

/**
 * A condition variable held by a manager; `waitFor` runs its predicate here, as Python's proxy does.
 * @example
 * const c = await manager.Condition()
 * await c.acquire(); await c.waitFor(async () => (await d.get('ready')) === true, 1000); await c.release()
 */
export class ConditionProxy extends LockProxy {
  /** Releases the lock, waits for a notify (true) or `timeout` ms (false), then retakes the lock. */
  wait(timeout?: number): Promise<boolean> {
    return this.callMethod('wait', timeout === undefined ? [] : [timeout]) as Promise<boolean>;
  }
  /** Waits until `predicate()` is truthy or `timeout` ms pass; resolves to its last result. */
  async waitFor<R>(predicate: () => R | Promise<R>, timeout?: number): Promise<R> {
    checkTimeout(timeout);
    const deadline = timeout === undefined || timeout === null ? Infinity : Date.now() + timeout;
    let result = await predicate();
    while (!result) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.wait(left === Infinity ? undefined : left);
      result = await predicate();
    }
    return result;
  }
  /** Wakes up to `n` waiters (default 1); the caller must hold the lock. */
  notify(n?: number): Promise<void> {
    return this.callMethod('notify', n === undefined ? [] : [n]) as Promise<void>;
  }
  /** Wakes every waiter; the caller must hold the lock. */
  notifyAll(): Promise<void> {
    return this.callMethod('notifyAll') as Promise<void>;
  }
}

/**
 * An event held by a manager.
 * @example
 * const e = await manager.Event(); await e.set(); console.log(await e.wait(100)) // true
 */
export class EventProxy extends BaseProxy {
  /** Whether the flag is set. */
  isSet(): Promise<boolean> {
    return this.callMethod('isSet') as Promise<boolean>;
  }
  /** Sets the flag and wakes every waiter. */
  set(): Promise<void> {
    return this.callMethod('set') as Promise<void>;
  }
  /** Clears the flag. */
  clear(): Promise<void> {
    return this.callMethod('clear') as Promise<void>;
  }
  /** Waits until the flag is set (true) or `timeout` ms pass (false). */
  wait(timeout?: number): Promise<boolean> {
    return this.callMethod('wait', timeout === undefined ? [] : [timeout]) as Promise<boolean>;
  }
}

/**
 * A barrier held by a manager; `wait` resolves to the caller's arrival index.
 * @example
 * const b = await manager.Barrier(2); const [i, j] = await Promise.all([b.wait(), other()])
 */
export class BarrierProxy extends BaseProxy {
  /** Waits for every party; BrokenBarrierError on timeout, abort() or reset(). */
  wait(timeout?: number): Promise<number> {
    return this.callMethod('wait', timeout === undefined ? [] : [timeout]) as Promise<number>;
  }
  /** Breaks the barrier for current waiters, then makes it usable again. */
  reset(): Promise<void> {
    return this.callMethod('reset') as Promise<void>;
  }
  /** Breaks the barrier for good. */
  abort(): Promise<void> {
    return this.callMethod('abort') as Promise<void>;
  }
  /** The number of parties. */
  parties(): Promise<number> {
    return this.callMethod('parties') as Promise<number>;
  }
  /** How many parties are waiting. */
  nWaiting(): Promise<number> {
    return this.callMethod('nWaiting') as Promise<number>;
  }
  /** Whether the barrier is broken. */
  broken(): Promise<boolean> {
    return this.callMethod('broken') as Promise<boolean>;
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
  LockProxy,
  RLockProxy,
  SemaphoreProxy,
  BoundedSemaphoreProxy,
  ConditionProxy,
  EventProxy,
  BarrierProxy,
};
for (const [name, cls] of Object.entries(kBuiltinProxies)) registerProxyType(name, cls);
