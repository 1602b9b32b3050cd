// The synchronization objects a manager server holds (Lock…Barrier), written for one event loop serving many callers.
import { BrokenBarrierError, InvalidStateError } from '../errors.ts';
import { checkBoolean, checkInteger, checkKnown, checkTimeout } from '../validate.ts';

/** Who is calling: one connection (that is, one thread of one process) and its lifetime. */
export interface Caller {
  readonly id: number;
  /** Aborted when the caller's connection closes: its waits end and nothing is handed to it. */
  readonly signal: AbortSignal;
}

// The server sets the caller for the synchronous start of each method call; methods that care
// (ownership, cancellation) read it on their first line, before any await.
let current: Caller | null = null;

/** Runs `fn` with `caller` as the current caller (for the synchronous part of the call). */
export function withCaller<T>(caller: Caller, fn: () => T): T {
  const previous = current;
  current = caller;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

// Calls made inside the server itself (a Condition's own lock, a user's referent calling
// another) have no connection: they belong to the server and are never cancelled.
const kServerCaller: Caller = { id: 0, signal: new AbortController().signal };

export function caller(): Caller {
  return current ?? kServerCaller;
}

export interface Waiter {
  readonly caller: Caller;
  wake(): void;
}

/** Waits in `waiters` until woken (true) or `timeout` ms pass (false); rejects if the caller leaves. */
export function park(
  waiters: Set<Waiter>,
  who: Caller,
  timeout: number | undefined,
): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    if (who.signal.aborted) return reject(who.signal.reason);
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      waiters.delete(waiter);
      clearTimeout(timer);
      who.signal.removeEventListener('abort', onAbort);
    };
    const waiter: Waiter = { caller: who, wake: () => (done(), resolve(true)) };
    const onAbort = () => (done(), reject(who.signal.reason));
    waiters.add(waiter);
    who.signal.addEventListener('abort', onAbort, { once: true });
    if (timeout !== undefined && timeout !== Infinity)
      timer = setTimeout(() => (done(), resolve(false)), timeout);
  });
}

export function first(waiters: Set<Waiter>): Waiter | undefined {
  return waiters.values().next().value;
}

/** Options of every acquire: `block` (default true) and `timeout` in ms (undefined waits forever). */
export interface AcquireOptions {
  block?: boolean;
  timeout?: number;
}

export function acquireOptions(options: AcquireOptions | undefined): {
  wait: boolean;
  timeout?: number;
} {
  checkKnown(options, 'options', ['block', 'timeout']);
  const { block = true, timeout } = options ?? {};
  checkBoolean(block, 'block');
  checkTimeout(timeout);
  return { wait: block && (timeout === undefined || timeout === null || timeout > 0), timeout };
}

/** What a Condition needs from its lock to release it fully and take it back. */
export interface ConditionLock {
  acquire(options?: AcquireOptions): Promise<boolean>;
  release(): void;
  isOwnedBy(who: Caller): boolean;
  releaseAll(who: Caller): number;
  restore(who: Caller, count: number): Promise<void>;
}

/** A lock owned by nobody in particular: any caller may release it (threading.Lock). */
export class LockReferent implements ConditionLock {
  #holder: number | null = null;
  readonly #waiters = new Set<Waiter>();

  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#acquire(caller(), options);
  }
  async #acquire(who: Caller, options?: AcquireOptions): Promise<boolean> {
    const { wait, timeout } = acquireOptions(options);
    if (this.#holder === null) {
      this.#holder = who.id;
      return true;
    }
    if (!wait) return false;
    // release() hands the lock straight to the first waiter: no barging, FIFO.
    return park(this.#waiters, who, timeout);
  }
  release(): void {
    if (this.#holder === null)
      throw new InvalidStateError('release unlocked lock', 'ERR_LOCK_NOT_HELD');
    const next = first(this.#waiters);
    this.#holder = next ? next.caller.id : null;
    next?.wake();
  }
  locked(): boolean {
    return this.#holder !== null;
  }
  /** @internal for Condition (not exposed: the server exposes only what proxies may call). */
  isOwnedBy(who: Caller): boolean {
    return this.#holder === who.id;
  }
  /** @internal */
  releaseAll(_who: Caller): number {
    this.release();
    return 1;
  }
  /** @internal */
  async restore(who: Caller, _count: number): Promise<void> {
    await this.#acquire(who);
  }
}

/** A lock its owner may take again; only the owner releases it (threading.RLock). */
export class RLockReferent implements ConditionLock {
  #owner: number | null = null;
  #count = 0;
  readonly #waiters = new Set<Waiter>();

  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#acquire(caller(), options);
  }
  async #acquire(who: Caller, options?: AcquireOptions, count = 1): Promise<boolean> {
    const { wait, timeout } = acquireOptions(options);
    if (this.#owner === who.id) {
      this.#count += count;
      return true;
    }
    if (this.#owner === null) {
      this.#owner = who.id;
      this.#count = count;
      return true;
    }
    if (!wait) return false;
    // release() hands over the lock with a count of 1; a restore takes back its whole count.
    const got = await park(this.#waiters, who, timeout);
    if (got) this.#count += count - 1;
    return got;
  }
  release(): void {
    const who = caller();
    if (this.#owner === null)
      throw new InvalidStateError('cannot release un-acquired lock', 'ERR_LOCK_NOT_HELD');
    if (this.#owner !== who.id)
      throw new InvalidStateError('cannot release a lock owned by another caller', 'ERR_NOT_OWNER');
    if (--this.#count > 0) return;
    const next = first(this.#waiters);
    this.#owner = next ? next.caller.id : null;
    this.#count = next ? 1 : 0;
    next?.wake();
  }
  /** @internal */
  isOwnedBy(who: Caller): boolean {
    return this.#owner === who.id;
  }
  /** @internal */
  releaseAll(who: Caller): number {
    const count = this.#count;
    this.#count = 1;
    withCaller(who, () => this.release());
    return count;
  }
  /** @internal */
  async restore(who: Caller, count: number): Promise<void> {
    await this.#acquire(who, undefined, count);
  }
}

/** A counter that blocks at zero (threading.Semaphore); bounded: releasing above the start value fails. */
export class SemaphoreReferent {
  #value: number;
  readonly #bound: number | null;
  readonly #waiters = new Set<Waiter>();

  constructor(value = 1, bounded = false) {
    checkInteger(value, 'value', 0);
    this.#value = value;
    this.#bound = bounded ? value : null;
  }
  async acquire(options?: AcquireOptions): Promise<boolean> {
    const who = caller();
    const { wait, timeout } = acquireOptions(options);
    if (this.#value > 0) {
      this.#value -= 1;
      return true;
    }
    if (!wait) return false;
    return park(this.#waiters, who, timeout);
  }
  release(): void {
    const next = first(this.#waiters);
    if (next) return next.wake(); // handed over: the value stays 0
    if (this.#bound !== null && this.#value >= this.#bound)
      throw new InvalidStateError(
        'semaphore released too many times',
        'ERR_RELEASED_TOO_MANY_TIMES',
      );
    this.#value += 1;
  }
  getValue(): number {
    return this.#value;
  }
}

/** A condition variable over a Lock or RLock of the same server (threading.Condition). */
export class ConditionReferent {
  readonly #lock: ConditionLock;
  readonly #waiters = new Set<Waiter>();

  constructor(lock?: ConditionLock) {
    this.#lock = lock ?? new RLockReferent();
  }
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }
  release(): void {
    this.#lock.release();
  }
  async wait(timeout?: number): Promise<boolean> {
    const who = caller();
    checkTimeout(timeout);
    if (!this.#lock.isOwnedBy(who))
      throw new InvalidStateError('cannot wait on un-acquired lock', 'ERR_LOCK_NOT_HELD');
    const saved = this.#lock.releaseAll(who);
    const notified = await park(this.#waiters, who, timeout === null ? undefined : timeout);
    // A caller that left gets nothing back (park rejected above); one that stays retakes the lock.
    await this.#lock.restore(who, saved);
    return notified;
  }
  notify(n = 1): void {
    checkInteger(n, 'n', 0);
    if (!this.#lock.isOwnedBy(caller()))
      throw new InvalidStateError('cannot notify on un-acquired lock', 'ERR_LOCK_NOT_HELD');
    for (let i = 0; i < n; i++) {
      const next = first(this.#waiters);
      if (!next) break;
      next.wake();
    }
  }
  notifyAll(): void {
    this.notify(this.#waiters.size);
  }
}

/** A flag callers can wait on (threading.Event). */
export class EventReferent {
  #flag = false;
  readonly #waiters = new Set<Waiter>();

  isSet(): boolean {
    return this.#flag;
  }
  set(): void {
    this.#flag = true;
    for (const waiter of [...this.#waiters]) waiter.wake();
  }
  clear(): void {
    this.#flag = false;
  }
  async wait(timeout?: number): Promise<boolean> {
    const who = caller();
    checkTimeout(timeout);
    if (this.#flag) return true;
    if (timeout !== undefined && timeout !== null && timeout <= 0) return false;
    await park(this.#waiters, who, timeout ?? undefined);
    return this.#flag;
  }
}

interface BarrierParty {
  resolve(index: number): void;
  reject(error: unknown): void;
}

/** A rendezvous of `parties` callers (threading.Barrier); the action runs here, in the server. */
export class BarrierReferent {
  readonly #parties: number;
  readonly #action: (() => unknown) | null;
  readonly #timeout: number | undefined;
  #waiting: BarrierParty[] = [];
  #broken = false;

  constructor(parties: number, action: (() => unknown) | null = null, timeout?: number) {
    checkInteger(parties, 'parties', 1);
    checkTimeout(timeout);
    this.#parties = parties;
    this.#action = action;
    this.#timeout = timeout ?? undefined;
  }
  async wait(timeout?: number): Promise<number> {
    const who = caller();
    checkTimeout(timeout);
    if (this.#broken) throw new BrokenBarrierError();
    const index = this.#waiting.length;
    if (index + 1 === this.#parties) {
      // This generation is complete: later arrivals start the next one, even during the action.
      const released = this.#waiting;
      this.#waiting = [];
      try {
        await this.#action?.();
      } catch (error) {
        this.#broken = true;
        for (const party of released)
          party.reject(new BrokenBarrierError('the barrier action failed', { cause: error }));
        this.#break(error);
        throw new BrokenBarrierError('the barrier action failed', { cause: error });
      }
      released.forEach((party, i) => party.resolve(i));
      return index;
    }
    const limit = timeout ?? this.#timeout;
    return new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => this.#break(who.signal.reason);
      const settle = () => (clearTimeout(timer), who.signal.removeEventListener('abort', onAbort));
      this.#waiting.push({
        resolve: (i) => (settle(), resolve(i)),
        reject: (e) => (settle(), reject(e)),
      });
      // A party that times out or leaves can never arrive: break the barrier for everyone.
      who.signal.addEventListener('abort', onAbort, { once: true });
      if (limit !== undefined && limit !== Infinity)
        timer = setTimeout(() => this.#break(), Math.max(0, limit));
    });
  }
  #break(cause?: unknown): void {
    this.#broken = true;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const party of waiting)
      party.reject(new BrokenBarrierError(undefined, cause === undefined ? undefined : { cause }));
  }
  reset(): void {
    this.#break();
    this.#broken = false;
  }
  abort(): void {
    this.#break();
  }
  parties(): number {
    return this.#parties;
  }
  nWaiting(): number {
    return this.#waiting.length;
  }
  broken(): boolean {
    return this.#broken;
  }
}
