// Condition: a lock plus a futex word with wake-up tokens (no stolen wake-ups), and the public class.
import { activeProvider } from '../shared/binding.ts';
import { inspect } from 'node:util';
import { InvalidStateError } from '../errors.ts';
import { createCore, registerCore, type CoreState, type SharedCore } from '../shared/core.ts';
import { callSignal } from '../shared/call-context.ts';
import {
  type WaitLoop,
  deadlineOf,
  kSelf,
  notify,
  remaining,
  runAsync,
  runSync,
  sharedWords,
} from '../shared/atomics.ts';
import { type Memory, kLocalMemory } from '../shared/memory.ts';
import { kReduce, type Destination } from '../reduction/values.ts';
import { checkFunction, checkInteger, checkTimeout, invalidArg } from '../validate.ts';
import { Lock, RLock, lockCoreOf, type AcquireOptions } from './lock.ts';
import type { MutexCore } from './mutex-core.ts';
import { markLocal, reduceCore, registerPrimitive, type CoreHandle } from '../shared/travel.ts';

// Word layout. A waiter takes ticket NEXT++ and counts itself in SLEEPING (holding the lock).
// notify(n) turns up to n sleepers into TOKENS and sets HORIZON = NEXT: only tickets below the
// horizon (waiters that were waiting when notify ran) may take a token, so a thread that starts
// waiting after notify() cannot steal the wake-up of an earlier one. SEQ is the futex word.
const kSeq = 0;
const kNext = 1;
const kSleeping = 2;
const kTokens = 3;
const kHorizon = 4;

/** What a condition core offers (a remote core in a child process has the same methods). */
export interface ConditionCoreApi extends SharedCore {
  waitSync(owner: number, timeout: number | undefined): boolean;
  waitAsync(owner: number, timeout: number | undefined): Promise<boolean>;
  notify(owner: number, n: number): void;
  notifyAll(owner: number): void;
  /** How many waiters no notify has reached yet (for repr). */
  waiting(): number;
}

/**
 * The condition-variable algorithm over its words and the core of its lock (Lock or RLock).
 * @example
 * const core = new ConditionCore(ConditionCore.fresh('RLock', MutexCore.fresh()))
 */
export class ConditionCore implements ConditionCoreApi {
  readonly kind = 'Condition';
  readonly state: CoreState;
  readonly #c: Int32Array;
  readonly #lock: MutexCore;

  constructor(state: CoreState) {
    this.state = state;
    this.#c = new Int32Array(state.buffers[0]!);
    const { lockKind } = state.meta as { lockKind: string };
    this.#lock = createCore(lockKind, { buffers: state.buffers.slice(1) }) as MutexCore;
  }

  /** A new state, in `memory`, over the lock whose core state is `lock` (of kind `lockKind`). */
  static fresh(lockKind: string, lock: CoreState, memory: Memory = kLocalMemory): CoreState {
    return {
      buffers: [sharedWords(5, memory).buffer as SharedArrayBuffer, ...lock.buffers],
      meta: { lockKind },
    };
  }

  #requireOwned(owner: number, message: string): void {
    if (!this.#lock.owned(owner)) throw new InvalidStateError(message, 'ERR_LOCK_NOT_HELD');
  }

  /** Registers a waiter (lock held): its ticket. */
  #enter(): number {
    const c = this.#c;
    Atomics.add(c, kSleeping, 1);
    return Atomics.add(c, kNext, 1);
  }

  /** Takes a wake-up token if this ticket may (never waits). */
  #take(ticket: number): boolean {
    const c = this.#c;
    if (((ticket - Atomics.load(c, kHorizon)) | 0) >= 0) return false;
    let k = Atomics.load(c, kTokens);
    while (k > 0) {
      const seen = Atomics.compareExchange(c, kTokens, k, k - 1);
      if (seen === k) return true;
      k = seen;
    }
    return false;
  }

  /** After a timeout, with the lock held again: notified after all, or leave the sleepers. */
  #leave(ticket: number): boolean {
    if (this.#take(ticket)) return true;
    Atomics.sub(this.#c, kSleeping, 1);
    return false;
  }

  waitSync(owner: number, timeout: number | undefined): boolean {
    this.#requireOwned(owner, 'must acquire() condition before using wait()');
    const ticket = this.#enter();
    const depth = this.#lock.releaseAll();
    const woken = runSync(this.#waiting(ticket, deadlineOf(timeout), undefined));
    this.#lock.restoreSync(owner, depth);
    return woken || this.#leave(ticket);
  }

  async waitAsync(owner: number, timeout: number | undefined): Promise<boolean> {
    this.#requireOwned(owner, 'must acquire() condition before using wait()');
    // Run by the broker for a child: if that child goes away, stop waiting, and do not keep
    // the lock that wait() takes back for it.
    const signal = callSignal();
    const ticket = this.#enter();
    const depth = this.#lock.releaseAll();
    const woken = await runAsync(this.#waiting(ticket, deadlineOf(timeout), signal), signal);
    // The waiter counts change under the lock only, so even a gone caller takes it to leave.
    await this.#lock.restoreAsync(owner, depth);
    const notified = woken || this.#leave(ticket);
    if (signal?.aborted) this.#lock.releaseAll();
    return notified;
  }

  /** Lock released: sleeps on SEQ until this ticket takes a token (true) or `end` passes. */
  *#waiting(ticket: number, end: number, signal: AbortSignal | undefined): WaitLoop<boolean> {
    const c = this.#c;
    for (;;) {
      const seq = Atomics.load(c, kSeq);
      if (this.#take(ticket)) return true;
      const left = remaining(end);
      if (left <= 0 || signal?.aborted) return false;
      yield { a: c, at: kSeq, expected: seq, ms: left };
    }
  }

  notify(owner: number, n: number): void {
    this.#requireOwned(owner, 'lock is not owned');
    const c = this.#c;
    const k = Math.min(n, Atomics.load(c, kSleeping));
    if (k <= 0) return;
    Atomics.sub(c, kSleeping, k);
    Atomics.add(c, kTokens, k);
    Atomics.store(c, kHorizon, Atomics.load(c, kNext));
    Atomics.add(c, kSeq, 1);
    // Every sleeper wakes and checks its ticket: a futex cannot pick the eligible ones.
    notify(c, kSeq);
  }

  notifyAll(owner: number): void {
    this.notify(owner, 0x7fffffff);
  }

  waiting(): number {
    return Atomics.load(this.#c, kSleeping);
  }
}

registerCore('Condition', (state) => new ConditionCore(state));

let adopting: { core: ConditionCoreApi; lock: Lock | RLock } | null = null;

/**
 * A condition variable shared by every thread and process it is passed to, as Python's
 * `multiprocessing.Condition`: wait with its lock held, be woken by notify. The default lock is
 * a new RLock. Using wait/notify without holding the lock throws InvalidStateError
 * ERR_LOCK_NOT_HELD. notify(n) wakes at most n of the threads waiting when it is called.
 * @example
 * const cond = new mp.Condition()
 * await cond.withLock(() => cond.waitFor(() => queueLength() > 0, 1000))
 */
export class Condition {
  readonly #core: ConditionCoreApi;
  readonly #lock: Lock | RLock;

  constructor(lock?: Lock | RLock) {
    if (adopting) {
      ({ core: this.#core, lock: this.#lock } = adopting);
      adopting = null;
      return;
    }
    if (lock !== undefined && !(lock instanceof Lock) && !(lock instanceof RLock)) {
      invalidArg('lock', 'a Lock, an RLock or undefined', lock);
    }
    this.#lock = lock ?? new RLock();
    const lockCore = lockCoreOf(this.#lock);
    this.#core = markLocal(
      new ConditionCore(
        ConditionCore.fresh(lockCore.kind, lockCore.state, activeProvider().memory),
      ),
    );
  }

  /** Acquires the underlying lock (see Lock.acquire). */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /** Acquires the underlying lock, blocking. */
  acquireSync(options?: AcquireOptions): boolean {
    return this.#lock.acquireSync(options);
  }

  /** Releases the underlying lock. */
  release(): void {
    this.#lock.release();
  }

  /** Runs `fn` holding the underlying lock. */
  withLock<R>(fn: () => R | Promise<R>): Promise<Awaited<R>> {
    return this.#lock.withLock(fn);
  }

  /** Like {@link withLock} with a synchronous `fn`, blocking while it waits. */
  withLockSync<R>(fn: () => R): R {
    return this.#lock.withLockSync(fn);
  }

  /**
   * Releases the lock, waits for a notify or `timeout` ms, re-acquires the lock; resolves false
   * on timeout. The lock must be held by this thread.
   */
  async wait(timeout?: number): Promise<boolean> {
    checkTimeout(timeout);
    return this.#core.waitAsync(kSelf, timeout ?? undefined);
  }

  /** Like {@link wait}, blocking the calling thread. */
  waitSync(timeout?: number): boolean {
    checkTimeout(timeout);
    return this.#core.waitSync(kSelf, timeout ?? undefined);
  }

  /**
   * Waits until `predicate()` is truthy (checked first, then after each wake-up) or `timeout`
   * ms pass; resolves to the predicate's last value. The predicate may return a Promise.
   */
  async waitFor<T>(predicate: () => T | Promise<T>, timeout?: number): Promise<Awaited<T>> {
    checkFunction(predicate, 'predicate');
    checkTimeout(timeout);
    const end = deadlineOf(timeout ?? undefined);
    let result = await predicate();
    while (!result) {
      const left = remaining(end);
      if (left <= 0) break;
      await this.#core.waitAsync(kSelf, left === Infinity ? undefined : left);
      result = await predicate();
    }
    return result;
  }

  /** Like {@link waitFor} with a synchronous predicate, blocking the calling thread. */
  waitForSync<T>(predicate: () => T, timeout?: number): T {
    checkFunction(predicate, 'predicate');
    checkTimeout(timeout);
    const end = deadlineOf(timeout ?? undefined);
    let result = predicate();
    while (!result) {
      const left = remaining(end);
      if (left <= 0) break;
      this.#core.waitSync(kSelf, left === Infinity ? undefined : left);
      result = predicate();
    }
    return result;
  }

  /** Wakes up to `n` waiters (default 1). The lock must be held by this thread. */
  notify(n = 1): void {
    checkInteger(n, 'n', 0);
    this.#core.notify(kSelf, n);
  }

  /** Wakes every waiter. The lock must be held by this thread. */
  notifyAll(): void {
    this.#core.notifyAll(kSelf);
  }

  [kReduce](destination: Destination): {
    kind: string;
    state: { core: CoreHandle; lock: Lock | RLock };
  } {
    // The lock travels as its own handle (encode walks the state), so both sides share it.
    return {
      kind: 'sync:Condition',
      state: { core: reduceCore(this.#core, destination), lock: this.#lock },
    };
  }

  /** Python's repr: `<Condition(<RLock(None, 0)>, 0)>`, the lock then the waiters not yet notified. */
  toString(): string {
    return `<Condition(${String(this.#lock)}, ${this.#core.waiting()})>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

registerPrimitive<{ core: CoreHandle; lock: Lock | RLock }>('sync:Condition', (core, s) => {
  adopting = { core: core as ConditionCoreApi, lock: s.lock };
  try {
    return new Condition();
  } finally {
    adopting = null;
  }
});
