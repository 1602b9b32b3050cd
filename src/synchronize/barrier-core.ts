// The barrier algorithm over shared words (Python's threading.Barrier), as a core the broker can host.
import { deserialize, serialize } from 'node:v8';
import { BrokenBarrierError } from '../errors.ts';
import { registerCore, type CoreState, type SharedCore } from '../shared/core.ts';
import {
  type WaitLoop,
  deadlineOf,
  mutexLockSync,
  mutexUnlock,
  notify,
  remaining,
  runAsync,
  runSync,
  sharedWords,
} from '../shared/atomics.ts';
import { type Memory, allocateShared, kLocalMemory } from '../shared/memory.ts';
import { deserializeError, type SerializedError } from '../reduction/errors.ts';

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

  /** A new state, in `memory`, for `parties` parties with a default timeout (null: none). */
  static fresh(parties: number, timeout: number | null, memory: Memory = kLocalMemory): CoreState {
    return {
      buffers: [
        sharedWords(4, memory).buffer as SharedArrayBuffer,
        allocateShared(kCauseBytes + 4, undefined, memory),
      ],
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
    notify(this.#a, kSeq);
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
    return runSync(this.#arriving(timeout, hasAction));
  }

  arriveAsync(_owner: number, timeout: number | undefined, hasAction: boolean): Promise<Arrival> {
    return runAsync(this.#arriving(timeout, hasAction));
  }

  /** One arrival: waits out a previous round, counts itself, then waits for the round to fill. */
  *#arriving(timeout: number | undefined, hasAction: boolean): WaitLoop<Arrival> {
    const a = this.#a;
    const end = deadlineOf(timeout ?? this.#timeout);
    this.#lock();
    while (this.#busy()) {
      const seq = Atomics.load(a, kSeq);
      this.#unlock();
      yield { a, at: kSeq, expected: seq, ms: Infinity };
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
      yield { a, at: kSeq, expected: seq, ms: left };
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
