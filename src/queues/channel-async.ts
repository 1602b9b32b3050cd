// The async twins of a channel's blocking waits: put, get, poll and join that await Atomics.waitAsync instead of blocking.
//
// Each retries the same non-waiting step as its blocking twin in channel.ts. The broker runs
// these for child processes, so one child's wait never blocks another's.
//
// Every wait takes an optional AbortSignal: the broker's callSignal() (the child that asked
// went away, e.g. killed mid-get: a ghost waiter would take, and lose, the next item put), or
// wait()'s own, once it has its answer. On abort the wait stops without taking anything. A
// pending Atomics.waitAsync cannot be cancelled, so the abort notifies the sequence word: our
// waiter wakes and leaves (releasing its hold on the event loop), the others look again and
// sleep.
import {
  deadlineOf,
  keepAlive,
  now,
  remaining,
  waitAsync as futexWaitAsync,
} from '../shared/atomics.ts';
import { type ChannelSteps, type GetResult, Status, kEmpty } from './channel-steps.ts';
import { H } from './ring.ts';

/** Async gets never spin: the main thread's event loop has other work to do. */
const kSpinAsyncMs = 0;

/**
 * Resolves when `h[slot]` is no longer `seen`, on a notify, or at the deadline; undefined when
 * there is nothing to wait for (the deadline passed, or `signal` aborted).
 */
function waitAsync(
  h: Int32Array,
  slot: number,
  seen: number,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<unknown> | undefined {
  const left = remaining(deadline);
  return left > 0 && !signal?.aborted ? futexWaitAsync(h, slot, seen, left) : undefined;
}

const kNoHook = (): void => {};

/** Makes an abort of `signal` wake the waiters of `h[slot]`; returns the unhook function. */
function wakeOnAbort(h: Int32Array, slot: H, signal: AbortSignal | undefined): () => void {
  if (!signal) return kNoHook;
  const wake = (): void => void Atomics.notify(h, slot);
  signal.addEventListener('abort', wake, { once: true });
  return () => signal.removeEventListener('abort', wake);
}

/**
 * Stores an item, waiting (without blocking the thread) while a bounded queue is full.
 * @example
 * await putAsync(steps, 'x', false, 1000, false) // Status.Ok, or NotNow after a second
 */
export async function putAsync(
  c: ChannelSteps,
  value: unknown,
  walked: boolean,
  timeout: number | undefined,
  asBytes: boolean,
  signal?: AbortSignal,
): Promise<Status> {
  const s = c.tryPut(value, walked, asBytes);
  if (s !== Status.NotNow) return s;
  const deadline = deadlineOf(timeout);
  const release = keepAlive();
  const unhook = wakeOnAbort(c.h, H.PutSeq, signal);
  try {
    for (;;) {
      const seen = c.registerPutWaiter();
      if (seen === null) {
        const again = c.tryPut(value, walked, asBytes);
        if (again !== Status.NotNow) return again;
        continue;
      }
      const pending = waitAsync(c.h, H.PutSeq, seen, deadline, signal);
      if (pending) await pending;
      Atomics.sub(c.h, H.PutWaiters, 1);
      if (signal?.aborted) return Status.NotNow;
      const again = c.tryPut(value, walked, asBytes);
      if (again !== Status.NotNow || now() >= deadline) return again;
    }
  } finally {
    unhook();
    release();
  }
}

/**
 * Takes an item, waiting (without blocking the thread) up to `timeout` ms while empty.
 * @example
 * const r = await getAsync(steps, undefined) // { s: Status.Ok, v: item }
 */
export function getAsync(
  c: ChannelSteps,
  timeout: number | undefined,
  signal?: AbortSignal,
): Promise<GetResult> {
  let r = c.tryGet();
  if (typeof r !== 'number') return Promise.resolve(r);
  const deadline = deadlineOf(timeout);
  if (!c.spin(r, deadline, kSpinAsyncMs)) {
    Atomics.sub(c.h, H.GetWaiters, 1);
    r = c.tryGet();
    if (typeof r !== 'number') return Promise.resolve(r);
  }
  return getSlow(c, r, deadline, signal);
}

async function getSlow(
  c: ChannelSteps,
  seen: number,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<GetResult> {
  const release = keepAlive();
  const unhook = wakeOnAbort(c.h, H.GetSeq, signal);
  try {
    for (;;) {
      const pending = waitAsync(c.h, H.GetSeq, seen, deadline, signal);
      if (pending) await pending;
      Atomics.sub(c.h, H.GetWaiters, 1);
      if (signal?.aborted) return kEmpty;
      const r = c.tryGet();
      if (typeof r !== 'number') return r;
      if (now() >= deadline) {
        Atomics.sub(c.h, H.GetWaiters, 1);
        return kEmpty;
      }
      seen = r;
    }
  } finally {
    unhook();
    release();
  }
}

/**
 * Waits up to `timeout` ms until an item is there or the channel is closed/EOF; does not keep
 * the event loop alive by itself.
 * @example
 * if (await pollAsync(steps, 100)) console.log('readable')
 */
export async function pollAsync(
  c: ChannelSteps,
  timeout: number | undefined,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = deadlineOf(timeout);
  const unhook = wakeOnAbort(c.h, H.PollSeq, signal);
  try {
    for (;;) {
      const r = c.ready();
      if (r === true) return true;
      const pending = waitAsync(c.h, H.PollSeq, r, deadline, signal);
      if (pending) await pending;
      Atomics.sub(c.h, H.PollWaiters, 1);
      if (signal?.aborted) return false;
      if (now() >= deadline) return c.ready() === true || unpoll(c);
    }
  } finally {
    unhook();
  }
}

function unpoll(c: ChannelSteps): false {
  Atomics.sub(c.h, H.PollWaiters, 1);
  return false;
}

/**
 * Waits until every item put has been marked done (or `timeout` ms); returns whether it has.
 * @example
 * await joinAsync(steps, undefined) // true once every item is marked done
 */
export async function joinAsync(
  c: ChannelSteps,
  timeout: number | undefined,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = deadlineOf(timeout);
  const release = keepAlive();
  const unhook = wakeOnAbort(c.h, H.JoinSeq, signal);
  try {
    for (;;) {
      const r = c.joinReady();
      if (r === true) return true;
      const expired = now() >= deadline;
      if (!expired) {
        const pending = waitAsync(c.h, H.JoinSeq, r, deadline, signal);
        if (pending) await pending;
      }
      Atomics.sub(c.h, H.JoinWaiters, 1);
      if (expired || signal?.aborted) return false;
    }
  } finally {
    unhook();
    release();
  }
}
