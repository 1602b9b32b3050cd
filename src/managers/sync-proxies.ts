// The typed proxies of the SyncManager's synchronization types: Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier.
import { checkKnown, checkTimeout } from '../validate.ts';
import { BaseProxy, type ProxyToken, registerProxyType } from './proxy.ts';

/** Options of `acquire`: `block` (default true) and `timeout` in ms (undefined waits forever). */
export interface ProxyAcquireOptions {
  block?: boolean;
  timeout?: number;
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
    checkKnown(options, 'options', ['block', 'timeout']);
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

const kSyncProxies: Record<string, new (token: ProxyToken) => BaseProxy> = {
  LockProxy,
  RLockProxy,
  SemaphoreProxy,
  BoundedSemaphoreProxy,
  ConditionProxy,
  EventProxy,
  BarrierProxy,
};
for (const [name, cls] of Object.entries(kSyncProxies)) registerProxyType(name, cls);
