// Semaphore and BoundedSemaphore: a counter core with futex sleeps, and the public classes.
import { activeProvider } from '../shared/binding.ts';
import { inspect } from 'node:util';
import { registerCore, type CoreState, type SharedCore } from '../shared/core.ts';
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
import { checkInteger, outOfRange } from '../validate.ts';
import { acquireTimeout, holding, holdingSync, type AcquireOptions } from './lock.ts';
import { releasedTooManyTimes } from './mutex-core.ts';
import { markLocal, reduceCore, registerPrimitive, type CoreHandle } from '../shared/travel.ts';

// Word layout: the value, how many threads may be sleeping on it, the bound (-1: none).
const kValue = 0;
const kSleepers = 1;
const kMax = 2;
/** The largest value a semaphore holds (one Int32 word; Linux's SEM_VALUE_MAX too). */
const kValueMax = 0x7fffffff;

/** What a semaphore core offers (a remote core in a child process has the same methods). */
export interface SemaphoreCoreApi extends SharedCore {
  acquireSync(owner: number, timeout: number | undefined): boolean;
  acquireAsync(owner: number, timeout: number | undefined): Promise<boolean>;
  release(owner: number): void;
  getValue(): number;
  maxValue(): number;
}

/**
 * The counting-semaphore algorithm: acquire decrements a positive value with compare-exchange,
 * else sleeps on the value word; release increments (refusing past the bound) and wakes one.
 * @example
 * const core = new SemaphoreCore(SemaphoreCore.fresh(2, -1))
 */
export class SemaphoreCore implements SemaphoreCoreApi {
  readonly kind = 'Semaphore';
  readonly state: CoreState;
  readonly #a: Int32Array;

  constructor(state: CoreState) {
    this.state = state;
    this.#a = new Int32Array(state.buffers[0]!);
  }

  /** A new state holding `value`, bounded by `max` (-1 for none), in `memory`. */
  static fresh(value: number, max: number, memory: Memory = kLocalMemory): CoreState {
    const a = sharedWords(3, memory);
    a[kValue] = value;
    a[kMax] = max;
    return { buffers: [a.buffer as SharedArrayBuffer] };
  }

  #tryTake(): boolean {
    const a = this.#a;
    let v = Atomics.load(a, kValue);
    while (v > 0) {
      const seen = Atomics.compareExchange(a, kValue, v, v - 1);
      if (seen === v) return true;
      v = seen;
    }
    return false;
  }

  acquireSync(_owner: number, timeout: number | undefined): boolean {
    if (this.#tryTake()) return true;
    return runSync(this.#acquiring(deadlineOf(timeout), undefined));
  }

  async acquireAsync(_owner: number, timeout: number | undefined): Promise<boolean> {
    if (this.#tryTake()) return true;
    const signal = callSignal(); // the broker's caller going away ends the wait
    return runAsync(this.#acquiring(deadlineOf(timeout), signal), signal);
  }

  /** Sleeps on the value word (counted as a sleeper, so release wakes it) until it takes one. */
  *#acquiring(end: number, signal: AbortSignal | undefined): WaitLoop<boolean> {
    const a = this.#a;
    for (;;) {
      const left = remaining(end);
      if (left <= 0 || signal?.aborted) return false;
      Atomics.add(a, kSleepers, 1);
      yield { a, at: kValue, expected: 0, ms: left };
      Atomics.sub(a, kSleepers, 1);
      if (signal?.aborted) return false;
      if (this.#tryTake()) return true;
    }
  }

  release(_owner: number): void {
    const a = this.#a;
    const max = a[kMax]!;
    // Unbounded, the value still stops at the word's limit (Python's SEM_VALUE_MAX) rather
    // than wrap around to a negative count.
    const bound = max < 0 ? kValueMax : max;
    let v = Atomics.load(a, kValue);
    for (;;) {
      if (v >= bound) throw releasedTooManyTimes();
      const seen = Atomics.compareExchange(a, kValue, v, v + 1);
      if (seen === v) break;
      v = seen;
    }
    if (Atomics.load(a, kSleepers) > 0) notify(a, kValue, 1);
  }

  getValue(): number {
    return Atomics.load(this.#a, kValue);
  }

  maxValue(): number {
    return this.#a[kMax]!;
  }
}

registerCore('Semaphore', (state) => new SemaphoreCore(state));

let adopting: SemaphoreCoreApi | null = null;

/**
 * A counter that `acquire` decrements (waiting while it is 0) and `release` increments, shared by
 * every thread and process it is passed to, as Python's `multiprocessing.Semaphore`. Releasing
 * above the initial value is allowed, up to 2³¹ − 1 (Linux's SEM_VALUE_MAX).
 * @example
 * const slots = new mp.Semaphore(2)
 * await slots.acquire(); try { await download() } finally { slots.release() }
 */
export class Semaphore {
  readonly #core: SemaphoreCoreApi;

  constructor(value = 1) {
    checkInteger(value, 'value', 0);
    if (value > kValueMax) outOfRange('value', `an integer from 0 to ${kValueMax}`, value);
    // `this`, not new.target: a context's BoundedSemaphore is a subclass of this one.
    const bound = this instanceof BoundedSemaphore ? value : -1;
    this.#core =
      adopting ??
      markLocal(new SemaphoreCore(SemaphoreCore.fresh(value, bound, activeProvider().memory)));
    adopting = null;
  }

  /** Waits until the value is positive and decrements it; false after `timeout` ms or when `block` is false. */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#core.acquireAsync(kSelf, acquireTimeout(options));
  }

  /** Like {@link acquire}, blocking the calling thread (meant for workers). */
  acquireSync(options?: AcquireOptions): boolean {
    return this.#core.acquireSync(
      kSelf,
      options === undefined ? undefined : acquireTimeout(options),
    );
  }

  /** Increments the value, waking one waiter; past 2³¹ − 1 it throws ERR_RELEASED_TOO_MANY_TIMES. */
  release(): void {
    this.#core.release(kSelf);
  }

  /** The current value. */
  getValue(): number {
    return this.#core.getValue();
  }

  /** Runs `fn` between an acquire and a release. */
  withLock<R>(fn: () => R | Promise<R>): Promise<Awaited<R>> {
    return holding(this, fn);
  }

  /** Like {@link withLock} with a synchronous `fn`, blocking while it waits. */
  withLockSync<R>(fn: () => R): R {
    return holdingSync(this, fn);
  }

  [kReduce](destination: Destination): {
    kind: string;
    state: { core: CoreHandle; bounded: boolean };
  } {
    const core = reduceCore(this.#core, destination);
    return { kind: 'sync:Semaphore', state: { core, bounded: this instanceof BoundedSemaphore } };
  }

  /** Python's repr: `<Semaphore(value=2)>`. */
  toString(): string {
    return `<Semaphore(value=${this.getValue()})>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  /** The bound of a BoundedSemaphore (-1 for a Semaphore). */
  protected maxValue(): number {
    return this.#core.maxValue();
  }
}

/**
 * A Semaphore that refuses to be released above its initial value: InvalidStateError
 * ERR_RELEASED_TOO_MANY_TIMES, as Python's `BoundedSemaphore`.
 * @example
 * const s = new mp.BoundedSemaphore(1)
 * s.release() // throws ERR_RELEASED_TOO_MANY_TIMES
 */
export class BoundedSemaphore extends Semaphore {
  constructor(value = 1) {
    super(value);
  }

  /** Python's repr: `<BoundedSemaphore(value=2, maxvalue=2)>`. */
  override toString(): string {
    return `<BoundedSemaphore(value=${this.getValue()}, maxvalue=${this.maxValue()})>`;
  }
}

function adoptSemaphore(core: SharedCore, bounded: boolean): Semaphore {
  adopting = core as SemaphoreCoreApi;
  try {
    return bounded ? new BoundedSemaphore() : new Semaphore();
  } finally {
    adopting = null;
  }
}

registerPrimitive<{ core: CoreHandle; bounded: boolean }>('sync:Semaphore', (core, s) =>
  adoptSemaphore(core, s.bounded),
);
