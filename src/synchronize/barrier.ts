// Barrier: Python's threading.Barrier algorithm over shared words, and the public class.
import { inspect } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { BrokenBarrierError } from '../errors.ts';
import { registerCore, type CoreState, type SharedCore } from '../shared/core.ts';
import {
  deadlineOf,
  kSelf,
  mutexLockSync,
  mutexUnlock,
  remaining,
  sharedWords,
  waitAsync,
} from '../shared/atomics.ts';
import { type FnRef, type Target, isFunctionRef, reduceFunction } from '../reduction/functions.ts';
import { deserializeError, serializeError, type SerializedError } from '../reduction/errors.ts';
import { reviveFunction } from '../reduction/revive.ts';
import { kReduce, type Destination } from '../reduction/values.ts';
import { checkInteger, checkOptions, checkTimeout, invalidArg } from '../validate.ts';
import { markLocal, reduceCore, registerPrimitive, type CoreHandle } from './travel.ts';

// Words: a short internal mutex (held only in synchronous stretches, never across a wait, so no
// thread can block on an async holder of its own), the state, the arrived count, the futex word.
const kMutex = 0;
const kState = 1;
const kCount = 2;
const kSeq = 3;
// States, as Python's: filling, draining, resetting, broken; plus "the last party runs the action".
const kFilling = 0;
const kDraining = 1;
const kResetting = -1;
const kBroken = -2;
const kAction = 2;
// The action's error, v8-serialized, so that every waiter's BrokenBarrierError carries it.
const kCauseBytes = 16 * 1024;

/** What one arrival learned: its index, and whether it must run the action then call finish. */
export interface Arrival {
  readonly index: number;
  readonly run: boolean;
}

/** What a barrier core offers (a remote core in a child process has the same methods). */
export interface BarrierCoreApi extends SharedCore {
  arriveSync(owner: number, timeout: number | undefined, hasAction: boolean): Arrival;
  arriveAsync(owner: number, timeout: number | undefined, hasAction: boolean): Promise<Arrival>;
  finish(owner: number, ok: boolean, cause: SerializedError | null): void;
  reset(owner: number): void;
  abort(owner: number): void;
  nWaiting(): number;
  broken(): boolean;
}

interface BarrierMeta {
  readonly parties: number;
  readonly timeout: number | null;
}

/**
 * The barrier algorithm. The last party to arrive either releases everyone, or (with an
 * action) returns `run: true`, runs the action where it is, and calls `finish`.
 * @example
 * const core = new BarrierCore(BarrierCore.fresh(3, null))
 */
export class BarrierCore implements BarrierCoreApi {
  readonly kind = 'Barrier';
  readonly state: CoreState;
  readonly parties: number;
  readonly #timeout: number | undefined;
  readonly #a: Int32Array;
  readonly #cause: Int32Array;

  constructor(state: CoreState) {
    this.state = state;
    const meta = state.meta as BarrierMeta;
    this.parties = meta.parties;
    this.#timeout = meta.timeout ?? undefined;
    this.#a = new Int32Array(state.buffers[0]!);
    this.#cause = new Int32Array(state.buffers[1]!);
  }

  /** A new state for `parties` parties with a default timeout (null: none). */
  static fresh(parties: number, timeout: number | null): CoreState {
    return {
      buffers: [sharedWords(4).buffer as SharedArrayBuffer, new SharedArrayBuffer(kCauseBytes + 4)],
      meta: { parties, timeout } satisfies BarrierMeta,
    };
  }

  #lock(): void {
    if (Atomics.compareExchange(this.#a, kMutex, 0, 1) !== 0)
      mutexLockSync(this.#a, kMutex, Infinity);
  }

  #unlock(): void {
    mutexUnlock(this.#a, kMutex);
  }

  /** Publishes a state change to every sleeper (mutex held). */
  #bump(): void {
    Atomics.add(this.#a, kSeq, 1);
    Atomics.notify(this.#a, kSeq);
  }

  #setState(s: number): void {
    Atomics.store(this.#a, kState, s);
    this.#bump();
  }

  #exit(): void {
    const a = this.#a;
    const count = Atomics.sub(a, kCount, 1) - 1;
    const s = a[kState];
    if (count === 0 && (s === kResetting || s === kDraining)) this.#setState(kFilling);
  }

  #storeCause(cause: SerializedError | null): void {
    const bytes = cause ? serialize(cause) : null;
    if (!bytes || bytes.byteLength > kCauseBytes) {
      this.#cause[0] = 0;
      return;
    }
    new Uint8Array(this.#cause.buffer, 4, bytes.byteLength).set(bytes);
    this.#cause[0] = bytes.byteLength;
  }

  /** The error a waiter of a broken barrier gets (mutex held). */
  #brokenError(): BrokenBarrierError {
    const n = this.#cause[0]!;
    if (n === 0) return new BrokenBarrierError();
    let cause: unknown;
    try {
      cause = deserializeError(
        deserialize(new Uint8Array(this.#cause.buffer, 4, n).slice()) as SerializedError,
      );
    } catch {
      return new BrokenBarrierError();
    }
    return new BrokenBarrierError('the barrier is broken: its action threw', { cause });
  }

  /** Mutex held: counts this arrival, or throws if broken. Returns its index. */
  #enterCounted(): number {
    const a = this.#a;
    if (a[kState] === kBroken) {
      const err = this.#brokenError();
      this.#unlock();
      throw err;
    }
    return Atomics.add(a, kCount, 1);
  }

  /** Mutex held: the last arrival; releases everyone unless an action must run first. */
  #last(index: number, hasAction: boolean): Arrival {
    if (hasAction) {
      Atomics.store(this.#a, kState, kAction);
      this.#unlock();
      return { index, run: true };
    }
    this.#setState(kDraining);
    this.#exit();
    this.#unlock();
    return { index, run: false };
  }

  /** Mutex held, woken for good: leaves with the index or the error. */
  #leave(index: number): Arrival {
    const ok = this.#a[kState] === kDraining;
    const err = ok ? null : this.#brokenError();
    this.#exit();
    this.#unlock();
    if (err) throw err;
    return { index, run: false };
  }

  /** Mutex held: whether arrivals must wait for the previous round to end. */
  #busy(): boolean {
    const s = this.#a[kState];
    return s === kDraining || s === kResetting || s === kAction;
  }

  /** Mutex held: whether a counted party still waits for the round. */
  #filling(): boolean {
    const s = this.#a[kState];
    return s === kFilling || s === kAction;
  }

  arriveSync(_owner: number, timeout: number | undefined, hasAction: boolean): Arrival {
    const a = this.#a;
    const end = deadlineOf(timeout ?? this.#timeout);
    this.#lock();
    while (this.#busy()) {
      const seq = Atomics.load(a, kSeq);
      this.#unlock();
      Atomics.wait(a, kSeq, seq);
      this.#lock();
    }
    const index = this.#enterCounted();
    if (index + 1 === this.parties) return this.#last(index, hasAction);
    while (this.#filling()) {
      const left = remaining(end);
      if (left <= 0) {
        this.#setState(kBroken);
        break;
      }
      const seq = Atomics.load(a, kSeq);
      this.#unlock();
      Atomics.wait(a, kSeq, seq, left);
      this.#lock();
    }
    return this.#leave(index);
  }

  async arriveAsync(
    _owner: number,
    timeout: number | undefined,
    hasAction: boolean,
  ): Promise<Arrival> {
    const a = this.#a;
    const end = deadlineOf(timeout ?? this.#timeout);
    this.#lock();
    while (this.#busy()) {
      const seq = Atomics.load(a, kSeq);
      this.#unlock();
      await waitAsync(a, kSeq, seq, Infinity);
      this.#lock();
    }
    const index = this.#enterCounted();
    if (index + 1 === this.parties) return this.#last(index, hasAction);
    while (this.#filling()) {
      const left = remaining(end);
      if (left <= 0) {
        this.#setState(kBroken);
        break;
      }
      const seq = Atomics.load(a, kSeq);
      this.#unlock();
      await waitAsync(a, kSeq, seq, left);
      this.#lock();
    }
    return this.#leave(index);
  }

  finish(_owner: number, ok: boolean, cause: SerializedError | null): void {
    this.#lock();
    let success = false;
    if (this.#a[kState] === kAction) {
      if (ok) {
        this.#setState(kDraining);
        success = true;
      } else {
        this.#storeCause(cause);
        this.#setState(kBroken);
      }
    }
    const err = success ? null : this.#brokenError();
    this.#exit();
    this.#unlock();
    if (err) throw err;
  }

  reset(_owner: number): void {
    this.#lock();
    const a = this.#a;
    this.#cause[0] = 0;
    if (a[kCount]! > 0) {
      if (a[kState] !== kDraining) this.#setState(kResetting);
    } else this.#setState(kFilling);
    this.#unlock();
  }

  abort(_owner: number): void {
    this.#lock();
    this.#cause[0] = 0;
    this.#setState(kBroken);
    this.#unlock();
  }

  nWaiting(): number {
    const s = Atomics.load(this.#a, kState);
    return s === kFilling || s === kAction ? Atomics.load(this.#a, kCount) : 0;
  }

  broken(): boolean {
    return Atomics.load(this.#a, kState) === kBroken;
  }
}

registerCore('Barrier', (state) => new BarrierCore(state));

/** Options of {@link Barrier}. */
export interface BarrierOptions {
  /** Run once per round by the last party to arrive, before anyone is released. */
  action?: Target<() => unknown> | undefined;
  /** Default timeout (ms) of `wait()`. */
  timeout?: number | undefined;
}

type BarrierState = { core: CoreHandle; parties: number; action: FnRef | null };
let adopting: { core: BarrierCoreApi; parties: number; action: FnRef | null } | null = null;

/**
 * A rendezvous for a fixed number of parties, shared by every thread and process it is passed
 * to, as Python's `Barrier`: `wait()` resolves with an index in 0..parties-1 once all have
 * arrived. A timeout, `abort()`, `reset()` or a throwing action breaks it: every waiter gets
 * BrokenBarrierError (its `cause` is the action's error when the action threw).
 * @example
 * const barrier = new mp.Barrier(3, { action: () => console.log('all here') })
 * const index = await barrier.wait()
 */
export class Barrier {
  readonly #core: BarrierCoreApi;
  readonly #parties: number;
  #action: (() => unknown) | null = null;
  #actionRef: FnRef | null = null;
  #loading: Promise<Function> | null = null;

  constructor(parties: number, options: BarrierOptions = {}) {
    if (adopting) {
      const { core, action } = adopting;
      this.#core = core;
      this.#parties = adopting.parties;
      adopting = null;
      if (action) this.#load(action);
      return;
    }
    checkInteger(parties, 'parties', 1);
    checkOptions(options, 'options');
    const { action, timeout } = options;
    checkTimeout(timeout, 'timeout');
    if (action !== undefined && typeof action !== 'function' && !isFunctionRef(action)) {
      invalidArg('action', 'a function or mp.ref()', action);
    }
    this.#parties = parties;
    if (typeof action === 'function') this.#action = action;
    else if (action !== undefined) this.#load(reduceFunction(action, 'the barrier action'));
    this.#core = markLocal(new BarrierCore(BarrierCore.fresh(parties, timeout ?? null)));
  }

  #load(ref: FnRef): void {
    this.#actionRef = ref;
    this.#loading = reviveFunction(ref);
    this.#loading.then(
      (fn) => (this.#action = fn as () => unknown),
      () => {},
    );
  }

  get #hasAction(): boolean {
    return this.#action !== null || this.#loading !== null;
  }

  /**
   * Waits until `parties` parties have called wait(); resolves with this party's index.
   * Rejects with BrokenBarrierError after `timeout` ms (the default from the constructor),
   * or when the barrier is broken.
   */
  async wait(timeout?: number): Promise<number> {
    checkTimeout(timeout);
    const { index, run } = await this.#core.arriveAsync(
      kSelf,
      timeout ?? undefined,
      this.#hasAction,
    );
    if (run) {
      try {
        const action = this.#action ?? ((await this.#loading) as () => unknown);
        await action();
      } catch (error) {
        throw this.#actionFailed(error);
      }
      this.#core.finish(kSelf, true, null);
    }
    return index;
  }

  /**
   * Like {@link wait}, blocking the calling thread. An action returning a Promise is not
   * awaited here; an action given as a module reference must have finished loading.
   */
  waitSync(timeout?: number): number {
    checkTimeout(timeout);
    const { index, run } = this.#core.arriveSync(kSelf, timeout ?? undefined, this.#hasAction);
    if (run) {
      try {
        if (!this.#action) {
          throw new Error(
            'the barrier action is still loading in this worker; use `await barrier.wait()` here',
          );
        }
        this.#action();
      } catch (error) {
        throw this.#actionFailed(error);
      }
      this.#core.finish(kSelf, true, null);
    }
    return index;
  }

  /** Breaks the barrier for everyone (their errors carry `error`); this party gets the original. */
  #actionFailed(error: unknown): BrokenBarrierError {
    try {
      this.#core.finish(kSelf, false, serializeError(error));
    } catch {
      // finish() throws the waiters' BrokenBarrierError; this party's carries the original error.
    }
    return new BrokenBarrierError('the barrier is broken: its action threw', { cause: error });
  }

  /** Breaks the barrier for current waiters (BrokenBarrierError) and makes it usable again. */
  reset(): void {
    this.#core.reset(kSelf);
  }

  /** Breaks the barrier: current and future waiters get BrokenBarrierError until reset(). */
  abort(): void {
    this.#core.abort(kSelf);
  }

  /** How many parties must call wait(). */
  get parties(): number {
    return this.#parties;
  }

  /** How many parties are waiting now. */
  get nWaiting(): number {
    return this.#core.nWaiting();
  }

  /** Whether the barrier is broken. */
  get broken(): boolean {
    return this.#core.broken();
  }

  [kReduce](destination: Destination): { kind: string; state: BarrierState } {
    if (this.#action && !this.#actionRef)
      this.#actionRef = reduceFunction(this.#action, 'the barrier action');
    return {
      kind: 'sync:Barrier',
      state: {
        core: reduceCore(this.#core, destination),
        parties: this.#parties,
        action: this.#actionRef,
      },
    };
  }

  /** `<Barrier(parties=3, waiting=1, broken=false)>`. */
  toString(): string {
    return `<Barrier(parties=${this.#parties}, waiting=${this.nWaiting}, broken=${this.broken})>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

registerPrimitive<BarrierState>('sync:Barrier', (core, s) => {
  adopting = { core: core as BarrierCoreApi, parties: s.parties, action: s.action };
  try {
    return new Barrier(s.parties);
  } finally {
    adopting = null;
  }
});
