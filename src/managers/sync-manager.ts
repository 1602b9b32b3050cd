// SyncManager, the manager with Python's typeids (dict, list, Namespace, Queue, Lock…Barrier, Value, Array), and mp.Manager().
import { reduceFunction } from '../reduction/functions.ts';
import { checkKnown, checkOptions, checkTimeout, invalidArg } from '../validate.ts';
import { BaseManager, type ManagerOptions } from './base-manager.ts';
import {
  ArrayProxy,
  BarrierProxy,
  BoundedSemaphoreProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  JoinableQueueProxy,
  ListProxy,
  LockProxy,
  NamespaceProxy,
  QueueProxy,
  RLockProxy,
  SemaphoreProxy,
  ValueProxy,
} from './proxies.ts';
import { type ArrayTypecode, kArrayTypes } from './referents.ts';

/** Options of a manager Barrier: an action run in the server by the last party, and a default timeout (ms). */
export interface ManagerBarrierOptions {
  action?: (() => unknown) | undefined;
  timeout?: number | undefined;
}

type Element<C extends ArrayTypecode> = C extends 'l' | 'L' | 'q' | 'Q' ? bigint : number;

function dictInit(init: unknown): unknown {
  if (init === undefined || init instanceof Map || Array.isArray(init)) return init;
  if (typeof init === 'object' && init !== null) {
    // Any other iterable of pairs travels as an array; a plain object as itself.
    if (Symbol.iterator in init) return [...(init as Iterable<unknown>)];
    return init;
  }
  invalidArg('init', 'a Map, an iterable of [key, value] pairs or a plain object', init);
}

function listInit(init: unknown): unknown[] | undefined {
  if (init === undefined || Array.isArray(init)) return init;
  if (typeof init === 'object' && init !== null && Symbol.iterator in init)
    return [...(init as Iterable<unknown>)];
  invalidArg('init', 'an iterable', init);
}

/**
 * The manager `mp.Manager()` starts: shared dict, list, Namespace, Queue, JoinableQueue, Lock,
 * RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier, Value and Array, each reached
 * through a typed proxy whose methods are async RPCs to the manager's server. Proxies travel to
 * workers inside Process arguments, Pool tasks and other shared objects, and work from any
 * thread of any process at once; each call runs to completion in the server, so one call is
 * atomic, while a read-modify-write of several calls needs a manager Lock (or a method of your
 * own class, see {@link BaseManager.register}).
 *
 * **Values are copies (Python's pitfall).** `get` returns a copy: changing a nested plain
 * object or array in place changes only your copy. Assign it back with `set`:
 * ```ts
 * const user = (await users.get('ada'))!
 * user.tags.push('admin')          // not seen by anyone else yet
 * await users.set('ada', user)     // now it is
 * ```
 * A proxy stored inside a shared object stays a proxy: `await d.set('inner', await manager.list())`
 * shares the inner list itself.
 *
 * **Decisions.** Releasing an unlocked manager Lock rejects with `InvalidStateError`
 * (`ERR_LOCK_NOT_HELD`), the same error as `mp.Lock` (Python's manager raises RuntimeError
 * there, mp.Lock ValueError). Shared objects live until the manager shuts down (Python frees
 * one when its last proxy is garbage-collected; here a proxy travelling to a worker can never
 * find its object gone). A lock held by a worker that dies stays held, as in Python. After
 * `shutdown()`, every call through a proxy, pending or new, in any process, rejects with
 * `InvalidStateError` code `ERR_CLOSED`.
 * @example
 * await using manager = await mp.Manager()
 * const results = await manager.dict<number, number>()
 * const workers = [0, 1, 2].map((i) => new mp.Process({ target: square, args: [results, i] }))
 * for (const p of workers) p.start()
 * for (const p of workers) await p.join()
 * console.log(await results.toObject()) // { '0': 0, '1': 1, '2': 4 }
 */
export class SyncManager extends BaseManager {
  static {
    for (const [typeid, proxytype] of [
      ['dict', 'DictProxy'],
      ['list', 'ListProxy'],
      ['Namespace', 'NamespaceProxy'],
      ['Value', 'ValueProxy'],
      ['Array', 'ArrayProxy'],
      ['Queue', 'QueueProxy'],
      ['JoinableQueue', 'JoinableQueueProxy'],
      ['Lock', 'LockProxy'],
      ['RLock', 'RLockProxy'],
      ['Semaphore', 'SemaphoreProxy'],
      ['BoundedSemaphore', 'BoundedSemaphoreProxy'],
      ['Condition', 'ConditionProxy'],
      ['Event', 'EventProxy'],
      ['Barrier', 'BarrierProxy'],
    ] as const)
      this.registerBuiltin(typeid, proxytype);
  }

  /** A shared dict (a Map on the server), from a Map, pairs or a plain object. */
  async dict<K = string, V = unknown>(
    init?: Map<K, V> | Iterable<readonly [K, V]> | (K extends string ? Record<K, V> : never),
  ): Promise<DictProxy<K, V>> {
    const args = init === undefined ? [] : [dictInit(init)];
    return (await this.create('dict', ...args)) as unknown as DictProxy<K, V>;
  }
  /** A shared list. */
  async list<T = unknown>(init?: Iterable<T>): Promise<ListProxy<T>> {
    const args = init === undefined ? [] : [listInit(init)];
    return (await this.create('list', ...args)) as unknown as ListProxy<T>;
  }
  /** A shared Namespace, with initial values. */
  async Namespace<T extends object = Record<string, unknown>>(
    init?: Partial<T>,
  ): Promise<NamespaceProxy<T>> {
    checkOptions(init, 'init');
    return (await this.create(
      'Namespace',
      ...(init ? [init] : []),
    )) as unknown as NamespaceProxy<T>;
  }
  /** A shared value; the typecode is recorded, not enforced (as Python's manager does). */
  async Value<T = number>(typecode: string, value: T): Promise<ValueProxy<T>> {
    if (typeof typecode !== 'string') invalidArg('typecode', 'a string', typecode);
    return (await this.create('Value', typecode, value)) as unknown as ValueProxy<T>;
  }
  /** A shared fixed-length typed array (b B h H i I f d → number; l L q Q → bigint). */
  async Array<C extends ArrayTypecode>(
    typecode: C,
    sizeOrInit: number | readonly Element<C>[],
  ): Promise<ArrayProxy<Element<C>>> {
    if (!Object.hasOwn(kArrayTypes, typecode as string))
      invalidArg('typecode', `one of ${Object.keys(kArrayTypes).join(' ')}`, typecode);
    return (await this.create('Array', typecode, sizeOrInit)) as unknown as ArrayProxy<Element<C>>;
  }
  /** A shared FIFO queue (0: unbounded). */
  async Queue<T = unknown>(maxsize = 0): Promise<QueueProxy<T>> {
    return (await this.create('Queue', maxsize)) as unknown as QueueProxy<T>;
  }
  /** A shared queue with `taskDone()` and `join()`. */
  async JoinableQueue<T = unknown>(maxsize = 0): Promise<JoinableQueueProxy<T>> {
    return (await this.create('JoinableQueue', maxsize)) as unknown as JoinableQueueProxy<T>;
  }
  /** A shared Lock. */
  async Lock(): Promise<LockProxy> {
    return (await this.create('Lock')) as unknown as LockProxy;
  }
  /** A shared re-entrant lock. */
  async RLock(): Promise<RLockProxy> {
    return (await this.create('RLock')) as unknown as RLockProxy;
  }
  /** A shared semaphore. */
  async Semaphore(value = 1): Promise<SemaphoreProxy> {
    return (await this.create('Semaphore', value)) as unknown as SemaphoreProxy;
  }
  /** A shared bounded semaphore. */
  async BoundedSemaphore(value = 1): Promise<BoundedSemaphoreProxy> {
    return (await this.create('BoundedSemaphore', value)) as unknown as BoundedSemaphoreProxy;
  }
  /** A shared condition over `lock` (a Lock or RLock of this manager; default a new RLock). */
  async Condition(lock?: LockProxy | RLockProxy): Promise<ConditionProxy> {
    if (lock !== undefined && !(lock instanceof LockProxy))
      invalidArg('lock', 'a Lock or RLock proxy of this manager', lock);
    return (await this.create('Condition', ...(lock ? [lock] : []))) as unknown as ConditionProxy;
  }
  /** A shared event. */
  async Event(): Promise<EventProxy> {
    return (await this.create('Event')) as unknown as EventProxy;
  }
  /** A shared barrier for `parties` callers; the action (self-contained or exported) runs in the server. */
  async Barrier(parties: number, options: ManagerBarrierOptions = {}): Promise<BarrierProxy> {
    checkKnown(options, 'options', ['action', 'timeout']);
    checkTimeout(options.timeout);
    const action =
      options.action === undefined ? null : reduceFunction(options.action, 'the barrier action');
    return (await this.create('Barrier', parties, {
      action,
      timeout: options.timeout,
    })) as unknown as BarrierProxy;
  }
}

/**
 * Starts a SyncManager and resolves to it (Python's `multiprocessing.Manager()`): its server is
 * a thread in the thread context, a child process named `SyncManager-N` in the process context.
 * `await using` shuts it down at the end of the scope.
 * @example
 * await using manager = await mp.Manager()
 * const d = await manager.dict<string, number>()
 * await d.set('answer', 42)
 */
export async function Manager(options?: ManagerOptions): Promise<SyncManager> {
  const manager = new SyncManager(options);
  await manager.start();
  return manager;
}
