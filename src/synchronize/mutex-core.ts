// Drepper's 3-state futex mutex with owner words: the algorithm under Lock and RLock, local or through the broker.
import { InvalidStateError } from '../errors.ts';
import { registerCore, type CoreState, type SharedCore } from '../shared/core.ts';
import { type Memory, kLocalMemory } from '../shared/memory.ts';
import { callSignal } from '../shared/call-context.ts';
import {
  clearOwner,
  deadlineOf,
  isOwner,
  mutexLockAsync,
  mutexLockSync,
  notify,
  readOwner,
  setOwner,
  sharedWords,
} from '../shared/atomics.ts';

// Word layout of a lock: the mutex word alone on its cache line (threads spinning on it must not
// slow the holder down), then the owner (two words) and the recursion depth, which only the
// holder writes, on the next line.
/** Index of the mutex word (0 free, 1 held, 2 held with waiters). */
export const kState = 0;
/** Index of the owner words (pid, threadId + 1) in a lock's Int32Array. */
export const kOwner = 16;
/** Index of the recursion depth. */
export const kCount = 18;
const kWords = 32;

/** What Lock and RLock cores offer (a remote core in a child process has the same methods). */
export interface LockCoreApi extends SharedCore {
  acquireSync(owner: number, timeout: number | undefined): boolean;
  acquireAsync(owner: number, timeout: number | undefined): Promise<boolean>;
  release(owner: number): void;
  /** Whether `owner` holds the lock (Python's `_is_mine`). */
  owned(owner: number): boolean;
  /** The holder and recursion depth, for repr. */
  info(): { owner: number | null; count: number };
}

/** The error of a release that has nothing to release (Python's ValueError). */
export function releasedTooManyTimes(): InvalidStateError {
  return new InvalidStateError(
    'semaphore or lock released too many times',
    'ERR_RELEASED_TOO_MANY_TIMES',
  );
}

/**
 * The algorithm of Lock (recursive = false) and RLock (recursive = true) over one Int32Array.
 * Condition uses `releaseAll`/`restore*` to wait with the lock fully released.
 * @example
 * const core = new MutexCore('RLock', MutexCore.fresh())
 * core.acquireSync(kSelf, undefined); core.release(kSelf)
 */
export class MutexCore implements LockCoreApi {
  readonly kind: 'Lock' | 'RLock';
  readonly state: CoreState;
  readonly #a: Int32Array;
  readonly #recursive: boolean;

  constructor(kind: 'Lock' | 'RLock', state: CoreState) {
    this.kind = kind;
    this.state = state;
    this.#a = new Int32Array(state.buffers[0]!);
    this.#recursive = kind === 'RLock';
  }

  /** A new unlocked state, in `memory`. */
  static fresh(memory: Memory = kLocalMemory): CoreState {
    return { buffers: [sharedWords(kWords, memory).buffer as SharedArrayBuffer] };
  }

  // The hot paths below inline the owner words' arithmetic (see setOwner in atomics.ts): fresh
  // workers run them interpreted at first, where every call counts.
  acquireSync(owner: number, timeout: number | undefined): boolean {
    const a = this.#a;
    const hi = (owner / 65536) | 0;
    const lo = owner - hi * 65536 + 1;
    if (this.#recursive && a[kOwner + 1] === lo && a[kOwner] === hi) {
      a[kCount]! += 1;
      return true;
    }
    if (Atomics.compareExchange(a, kState, 0, 1) !== 0) {
      if (!mutexLockSync(a, kState, deadlineOf(timeout))) return false;
    }
    a[kOwner] = hi;
    a[kOwner + 1] = lo;
    a[kCount] = 1;
    return true;
  }

  async acquireAsync(owner: number, timeout: number | undefined): Promise<boolean> {
    const a = this.#a;
    if (this.#recursive && isOwner(a, kOwner, owner)) {
      a[kCount]! += 1;
      return true;
    }
    // Run by the broker for a child: if that child goes away, stop waiting rather than take
    // the lock for a dead owner.
    const signal = callSignal();
    if (!(await mutexLockAsync(a, kState, deadlineOf(timeout), signal))) return false;
    setOwner(a, kOwner, owner);
    a[kCount] = 1;
    return true;
  }

  release(owner: number): void {
    const a = this.#a;
    if (this.#recursive) {
      const hi = (owner / 65536) | 0;
      if (a[kOwner + 1] !== owner - hi * 65536 + 1 || a[kOwner] !== hi) {
        throw new InvalidStateError(
          'attempt to release recursive lock not owned by thread',
          'ERR_NOT_OWNER',
        );
      }
      if (--a[kCount]! > 0) return;
    } else if (Atomics.load(a, kState) === 0) {
      throw releasedTooManyTimes();
    }
    a[kCount] = 0;
    a[kOwner + 1] = 0;
    a[kOwner] = 0;
    const was = Atomics.exchange(a, kState, 0);
    // A plain Lock may be released by any thread: two racing releases leave one failing.
    if (was === 0) throw releasedTooManyTimes();
    if (was === 2) notify(a, kState, 1);
  }

  #unlock(): void {
    const a = this.#a;
    a[kCount] = 0;
    clearOwner(a, kOwner);
    if (Atomics.exchange(a, kState, 0) === 2) notify(a, kState, 1);
  }

  /** The lock's words, for Value's inline "do I hold it?" check (local cores only). */
  get words(): Int32Array {
    return this.#a;
  }

  owned(owner: number): boolean {
    return Atomics.load(this.#a, kState) !== 0 && isOwner(this.#a, kOwner, owner);
  }

  info(): { owner: number | null; count: number } {
    const locked = Atomics.load(this.#a, kState) !== 0;
    return {
      owner: locked ? readOwner(this.#a, kOwner) : null,
      count: locked ? this.#a[kCount]! : 0,
    };
  }

  /** Releases completely (for Condition.wait); the caller checked ownership. Returns the depth. */
  releaseAll(): number {
    const count = this.#a[kCount]!;
    this.#unlock();
    return count;
  }

  /** Re-takes the lock with the depth saved by {@link releaseAll}, waiting as long as needed. */
  restoreSync(owner: number, count: number): void {
    const a = this.#a;
    if (Atomics.compareExchange(a, kState, 0, 1) !== 0) mutexLockSync(a, kState, Infinity);
    setOwner(a, kOwner, owner);
    a[kCount] = count;
  }

  /** The async twin of {@link restoreSync}. */
  async restoreAsync(owner: number, count: number): Promise<void> {
    await mutexLockAsync(this.#a, kState, Infinity);
    setOwner(this.#a, kOwner, owner);
    this.#a[kCount] = count;
  }
}

registerCore('Lock', (state) => new MutexCore('Lock', state));
registerCore('RLock', (state) => new MutexCore('RLock', state));
