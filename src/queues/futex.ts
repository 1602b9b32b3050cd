// Small Atomics helpers the channel core needs: a futex mutex and sync/async waits with deadlines.
//
// These duplicate what src/shared/atomics.ts (Sync engineer) provides for Lock & co.; they are
// kept here, small and private, so the queue core does not depend on work landing in parallel.

const kSpins = 64;

/** Milliseconds since an arbitrary origin, monotonic. */
export const now: () => number = () => performance.now();

/** The absolute deadline of a timeout in ms (undefined waits forever, ≤ 0 does not wait). */
export function deadlineOf(timeout: number | undefined): number {
  if (timeout === undefined || timeout === null || timeout === Infinity) return Infinity;
  return now() + Math.max(0, timeout);
}

/**
 * Takes the mutex at `h[slot]` (0 free, 1 held, 2 held with waiters; Drepper's "futexes are
 * tricky" mutex 2). Critical sections are a few memory copies, so waiting is brief.
 * @example
 * lockMutex(header, 0); try { ... } finally { unlockMutex(header, 0) }
 */
export function lockMutex(h: Int32Array, slot: number): void {
  let c = Atomics.compareExchange(h, slot, 0, 1);
  if (c === 0) return;
  for (let i = 0; i < kSpins && c === 1; i++) {
    c = Atomics.compareExchange(h, slot, 0, 1);
    if (c === 0) return;
  }
  if (c !== 2) c = Atomics.exchange(h, slot, 2);
  while (c !== 0) {
    Atomics.wait(h, slot, 2);
    c = Atomics.exchange(h, slot, 2);
  }
}

/**
 * Releases the mutex at `h[slot]`, waking one waiter if there are any.
 * @example
 * unlockMutex(header, 0)
 */
export function unlockMutex(h: Int32Array, slot: number): void {
  if (Atomics.sub(h, slot, 1) !== 1) {
    Atomics.store(h, slot, 0);
    Atomics.notify(h, slot, 1);
  }
}

/**
 * Blocks until `h[slot]` is no longer `seen`, a notify, or the deadline.
 * @example
 * waitUntilChanged(header, kGetSeq, seq, deadline)
 */
export function waitSync(h: Int32Array, slot: number, seen: number, deadline: number): void {
  const remaining = deadline === Infinity ? Infinity : deadline - now();
  if (remaining <= 0) return;
  Atomics.wait(h, slot, seen, remaining);
}

/**
 * Resolves when `h[slot]` is no longer `seen`, on a notify, or at the deadline; never blocks.
 * @example
 * await waitAsync(header, kGetSeq, seq, deadline)
 */
export function waitAsync(
  h: Int32Array,
  slot: number,
  seen: number,
  deadline: number,
): Promise<unknown> | undefined {
  const remaining = deadline === Infinity ? Infinity : deadline - now();
  if (remaining <= 0) return undefined;
  const r = Atomics.waitAsync(h, slot, seen, remaining);
  return r.async ? r.value : undefined;
}

let keepers = 0;
let keeper: NodeJS.Timeout | null = null;

/**
 * Keeps this thread's event loop alive while an async wait is pending (a pending
 * Atomics.waitAsync alone does not, so a worker awaiting `q.get()` would otherwise exit).
 * Returns the release function.
 * @example
 * const release = keepAlive(); try { await waitAsync(...) } finally { release() }
 */
export function keepAlive(): () => void {
  if (keepers++ === 0) keeper = setInterval(() => {}, 1 << 30);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--keepers === 0 && keeper) {
      clearInterval(keeper);
      keeper = null;
    }
  };
}
