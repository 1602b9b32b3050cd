// Futex-style building blocks over Atomics: deadlines, the wake-up seam, wait loops, the 3-state mutex, owner words.
import { callerId } from './core.ts';
import { type Memory, allocateShared, kLocalMemory } from './memory.ts';

/**
 * How many times a blocking lock looks at a held lock before it sleeps (Drepper's spin phase).
 * Longer than the classic 100: a futex wake-up costs tens of µs on a VM, far more than the few
 * µs of looking (W6 thread: ~5.7 → ~7 M increments/s).
 */
export const kSpin = 1000;

/** Who is calling, as {@link callerId}; constant for the life of a thread, so computed once. */
export const kSelf: number = callerId();
/** The two owner words of {@link kSelf} (see setOwner), precomputed for inline checks. */
export const kSelfHi: number = Math.floor(kSelf / 65536);
/** The low owner word of {@link kSelf}. */
export const kSelfLo: number = (kSelf % 65536) + 1;

/**
 * Turns a public timeout (ms; undefined waits forever; 0 or less does not wait) into a deadline
 * on `performance.now()`'s clock: Infinity, or a time (past when the caller must not wait).
 * @example
 * const end = deadlineOf(100) // performance.now() + 100
 */
export function deadlineOf(timeout: number | undefined): number {
  if (timeout === undefined || timeout === null || timeout === Infinity) return Infinity;
  return performance.now() + Math.max(0, timeout);
}

/**
 * The clock every deadline here is on: `performance.now()` milliseconds.
 * @example
 * if (now() >= deadline) return false
 */
export const now = (): number => performance.now();

/**
 * Milliseconds left until `deadline` (Infinity for none; 0 or less when it has passed).
 * @example
 * if (remaining(end) <= 0) return false
 */
export function remaining(deadline: number): number {
  return deadline === Infinity ? Infinity : deadline - performance.now();
}

// Atomics.waitAsync does not keep Node's event loop alive: a program awaiting a lock would
// exit mid-wait. While any async wait is pending, one ref'd timer keeps the loop running.
let pendingWaits = 0;
let keeper: NodeJS.Timeout | null = null;

function hold(): void {
  if (pendingWaits++ === 0) keeper = setInterval(() => {}, 1 << 30);
}

function letGo(): void {
  if (--pendingWaits === 0 && keeper) {
    clearInterval(keeper);
    keeper = null;
  }
}

/**
 * Keeps this thread's event loop alive until the returned function is called (idempotent): for
 * code that awaits several waits in a row.
 * @example
 * const release = keepAlive(); try { await waitAsync(...) } finally { release() }
 */
export function keepAlive(): () => void {
  hold();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    letGo();
  };
}

// --- The wake-up seam. Every wait and wake on shared state goes through waitSync, waitAsync and
// notify below. V8's Atomics.wait/notify only see the threads of one process; memory that other
// processes map too (see memory.ts) needs a futex, so its provider registers a Waker for it.
//
// The contract, for wakers and wait loops alike: a wait may return early for no reason (a futex
// wakes spuriously, a signal interrupts it), so every loop re-checks its condition after any
// return and sleeps again. A waker's notify wakes waiters in every process mapping the memory.

/** Result of a futex wait, as Atomics.wait reports it. */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

/**
 * How waits and wakes happen on some memory.
 * - `waitSync(a, at, expected, ms)` blocks the calling thread while `a[at] === expected`, until
 *   a notify of `(a, at)`, `ms` milliseconds (Infinity: no limit; 0 or less: no sleep) or a
 *   spurious wake-up; `'not-equal'` when the word differed at the call, `'timed-out'` after
 *   `ms`, else `'ok'`.
 * - `waitAsync` is the same without blocking the thread; it must not tie up libuv's thread pool.
 * - `notify(a, at, count)` wakes up to `count` (Infinity: every) waiter of `(a, at)`, sync and
 *   async alike; returns how many it woke (callers ignore it: a futex may not know exactly).
 * @example
 * const futex: Waker = { waitSync: addon.wait, waitAsync: addon.waitAsync, notify: addon.wake }
 */
export interface Waker {
  waitSync(a: Int32Array, at: number, expected: number, ms: number): WaitResult;
  waitAsync(
    a: Int32Array,
    at: number,
    expected: number,
    ms: number,
    signal?: AbortSignal,
  ): Promise<WaitResult>;
  notify(a: Int32Array, at: number, count: number): number;
}

interface Registration {
  readonly owns: (buffer: SharedArrayBuffer) => boolean;
  readonly waker: Waker;
}

// Null while no waker is registered: then each seam function costs one comparison more than
// the bare Atomics call it wraps.
let foreign: Registration[] | null = null;

function foreignWaker(a: Int32Array): Waker | null {
  const buffer = a.buffer as SharedArrayBuffer;
  for (const r of foreign!) if (r.owns(buffer)) return r.waker;
  return null;
}

/**
 * Routes the waits and wakes on every buffer for which `owns(buffer)` is true to `waker`
 * instead of V8's Atomics (which only see one process). `owns` is asked on every wait and
 * notify while any waker is registered: keep it a cheap, stable test (a WeakSet lookup, say).
 * Returns the function that unregisters it.
 * @example
 * const unregister = registerWaker((b) => mapped.has(b), futex)
 */
export function registerWaker(
  owns: (buffer: SharedArrayBuffer) => boolean,
  waker: Waker,
): () => void {
  const registration: Registration = { owns, waker };
  foreign = [...(foreign ?? []), registration];
  return () => {
    const left = (foreign ?? []).filter((r) => r !== registration);
    foreign = left.length > 0 ? left : null;
  };
}

/**
 * Sleeps until `a[at]` is notified while it holds `expected`, at most `ms` (see {@link Waker}).
 * Blocks the calling thread. May return early: re-check the condition.
 * @example
 * waitSync(i32, 0, 2, remaining(end))
 */
export function waitSync(a: Int32Array, at: number, expected: number, ms: number): WaitResult {
  if (foreign !== null) {
    const waker = foreignWaker(a);
    if (waker !== null) return waker.waitSync(a, at, expected, ms);
  }
  return Atomics.wait(a, at, expected, ms);
}

/**
 * Like {@link waitSync} without blocking: resolves on notify, on a changed value or after `ms`;
 * keeps the event loop alive meanwhile. `signal` aborting resolves it with `'timed-out'` (the
 * pending wait itself ends on its own later).
 * @example
 * await waitAsync(i32, 0, 2, remaining(end))
 */
export function waitAsync(
  a: Int32Array,
  at: number,
  expected: number,
  ms: number,
  signal?: AbortSignal,
): Promise<WaitResult> {
  let waited: Promise<WaitResult>;
  const waker = foreign === null ? null : foreignWaker(a);
  if (waker === null) {
    const r = Atomics.waitAsync(a, at, expected, ms);
    if (!r.async) return Promise.resolve(r.value);
    waited = r.value;
  } else waited = waker.waitAsync(a, at, expected, ms, signal);
  hold();
  waited = waited.finally(letGo);
  if (!signal) return waited;
  // The broker's caller went away: stop waiting (the pending futex wait ends on its own later).
  // The listener goes with the wait, or a loop of waits on one signal would pile them up.
  let onAbort!: () => void;
  const aborted = new Promise<WaitResult>((resolve) => {
    onAbort = () => resolve('timed-out');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([waited, aborted]).finally(() =>
    signal.removeEventListener('abort', onAbort),
  );
}

/**
 * Wakes up to `count` waiters of `a[at]` (sync and async alike).
 * @example
 * notify(i32, 0, 1)
 */
export function notify(a: Int32Array, at: number, count = Infinity): number {
  if (foreign !== null) {
    const waker = foreignWaker(a);
    if (waker !== null) return waker.notify(a, at, count);
  }
  return Atomics.notify(a, at, count);
}

// --- Wait loops. Each blocking/async pair is written once, as a generator that yields the waits
// it needs and gets each result back; runSync and runAsync drive it. A loop must re-check its
// condition after every wait (see the seam's contract above).

/** One wait a loop asks for: sleep on `a[at]` while it holds `expected`, at most `ms`. */
export interface Wait {
  readonly a: Int32Array;
  readonly at: number;
  readonly expected: number;
  readonly ms: number;
}

/**
 * A wait loop: yields the {@link Wait}s it needs, receives each one's result, returns its answer.
 * @example
 * function* untilSet(a: Int32Array): WaitLoop<true> {
 *   while (Atomics.load(a, 0) === 0) yield { a, at: 0, expected: 0, ms: Infinity }
 *   return true
 * }
 */
export type WaitLoop<T> = Generator<Wait, T, WaitResult>;

/**
 * Runs a wait loop to its end, blocking the calling thread in each wait.
 * @example
 * const ok = runSync(untilSet(words))
 */
export function runSync<T>(loop: WaitLoop<T>): T {
  let step = loop.next();
  while (step.done !== true) {
    const w = step.value;
    step = loop.next(waitSync(w.a, w.at, w.expected, w.ms));
  }
  return step.value;
}

/**
 * Runs a wait loop to its end without blocking: each wait is awaited ({@link waitAsync}, ended
 * early by `signal`). The loop's steps before its first wait run synchronously.
 * @example
 * const ok = await runAsync(untilSet(words))
 */
export async function runAsync<T>(loop: WaitLoop<T>, signal?: AbortSignal): Promise<T> {
  let step = loop.next();
  while (step.done !== true) {
    const w = step.value;
    step = loop.next(await waitAsync(w.a, w.at, w.expected, w.ms, signal));
  }
  return step.value;
}

// --- Drepper's mutex ("Futexes are tricky", mutex 3): 0 free, 1 held, 2 held with maybe waiters.

/**
 * Takes the mutex at `a[at]` if free; never waits.
 * @example
 * if (mutexTry(i32, 0)) { try { work() } finally { mutexUnlock(i32, 0) } }
 */
export function mutexTry(a: Int32Array, at: number): boolean {
  return Atomics.compareExchange(a, at, 0, 1) === 0;
}

/**
 * Takes the mutex, spinning briefly then sleeping until `deadline`; false on timeout.
 * @example
 * mutexLockSync(i32, 0, Infinity)
 */
export function mutexLockSync(a: Int32Array, at: number, deadline: number): boolean {
  let c = Atomics.compareExchange(a, at, 0, 1);
  if (c === 0) return true;
  if (deadline !== Infinity && performance.now() >= deadline) return false;
  // Spin on loads (the line stays shared) and try the exchange only when it looks free.
  for (let s = 0; s < kSpin; s++) {
    c = Atomics.load(a, at);
    if (c === 0) {
      c = Atomics.compareExchange(a, at, 0, 1);
      if (c === 0) return true;
    }
  }
  return runSync(mutexSleep(a, at, c, deadline, undefined));
}

/**
 * The async twin of {@link mutexLockSync}: never spins (the event loop has other work) nor
 * blocks the thread; `signal` aborting gives up (false).
 * @example
 * await mutexLockAsync(i32, 0, deadlineOf(100))
 */
export async function mutexLockAsync(
  a: Int32Array,
  at: number,
  deadline: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const c = Atomics.compareExchange(a, at, 0, 1);
  if (c === 0) return true;
  return runAsync(mutexSleep(a, at, c, deadline, signal), signal);
}

/** The sleeping phase of both: mark the mutex contended (2) and sleep until it was free. */
function* mutexSleep(
  a: Int32Array,
  at: number,
  c: number,
  deadline: number,
  signal: AbortSignal | undefined,
): WaitLoop<boolean> {
  if (c !== 2) c = Atomics.exchange(a, at, 2);
  while (c !== 0) {
    const left = remaining(deadline);
    if (left <= 0 || signal?.aborted) return false;
    yield { a, at, expected: 2, ms: left };
    if (signal?.aborted) return false;
    c = Atomics.exchange(a, at, 2);
  }
  return true;
}

/**
 * Frees the mutex, waking one sleeper if there may be one.
 * @example
 * mutexUnlock(i32, 0)
 */
export function mutexUnlock(a: Int32Array, at: number): void {
  if (Atomics.sub(a, at, 1) !== 1) {
    Atomics.store(a, at, 0);
    notify(a, at, 1);
  }
}

// --- Owner words: an owner id (pid × 2¹⁶ + threadId, up to 2³⁸) kept in two Int32 words as
// (pid, threadId + 1). Only the holder writes them, setting them after taking the lock and
// clearing them before letting it go; a torn read by another thread has a 0 half and so never
// equals a real id, which makes "is it mine?" a pair of loads.

/**
 * Writes `owner` into `a[at]`, `a[at + 1]`.
 * @example
 * setOwner(i32, 1, kSelf)
 */
export function setOwner(a: Int32Array, at: number, owner: number): void {
  a[at] = Math.floor(owner / 65536);
  a[at + 1] = (owner % 65536) + 1;
}

/**
 * Clears the owner words.
 * @example
 * clearOwner(i32, 1)
 */
export function clearOwner(a: Int32Array, at: number): void {
  a[at + 1] = 0;
  a[at] = 0;
}

/**
 * Whether the owner words hold `owner`.
 * @example
 * if (!isOwner(i32, 1, kSelf)) throw notOwner()
 */
export function isOwner(a: Int32Array, at: number, owner: number): boolean {
  return a[at + 1] === (owner % 65536) + 1 && a[at] === Math.floor(owner / 65536);
}

/**
 * The owner id stored in the words, or null when none.
 * @example
 * readOwner(i32, 1) // 4242 * 65536 + 0
 */
export function readOwner(a: Int32Array, at: number): number | null {
  const hi = Atomics.load(a, at);
  const lo = Atomics.load(a, at + 1);
  return hi === 0 || lo === 0 ? null : hi * 65536 + lo - 1;
}

/**
 * A fresh zeroed Int32Array of `length` words over a new shared buffer from `memory`.
 * @example
 * const words = sharedWords(4)
 */
export function sharedWords(length: number, memory: Memory = kLocalMemory): Int32Array {
  return new Int32Array(allocateShared(length * 4, undefined, memory));
}
