// The wait loops of a channel (put, get, poll, join): each written once, run blocking or async.
//
// Each loop retries a non-waiting step (channel-steps.ts) and yields a wait on the matching
// sequence word between tries; channel.ts runs them with runSync (blocking the thread) or with
// the async functions below. The broker runs the async ones for child processes, so one
// child's wait never blocks another's.
//
// Every loop takes an optional AbortSignal (async callers only): the broker's callSignal() (the
// child that asked went away, e.g. killed mid-get: a ghost waiter would take, and lose, the next
// item put), or wait()'s own, once it has its answer. On abort the wait stops without taking
// anything. A pending async wait cannot be cancelled, so the abort notifies the sequence word:
// our waiter wakes and leaves (releasing its hold on the event loop), the others look again and
// sleep.
import {
  type WaitLoop,
  deadlineOf,
  keepAlive,
  notify,
  now,
  remaining,
  waitAsync,
} from '../shared/atomics.ts';
import { type ChannelSteps, type GetResult, Status, kEmpty } from './channel-steps.ts';
import { H } from './ring.ts';

/** Async gets never spin: the main thread's event loop has other work to do. */
const kSpinAsyncMs = 0;

/**
 * Stores an item, sleeping on PutSeq while a bounded queue is full, up to `deadline`; the caller
 * has just found it full.
 * @example
 * runSync(putLoop(steps, 'x', false, false, deadlineOf(1000), undefined)) // Ok, or NotNow
 */
export function* putLoop(
  c: ChannelSteps,
  value: unknown,
  walked: boolean,
  asBytes: boolean,
  deadline: number,
  signal: AbortSignal | undefined,
): WaitLoop<Status> {
  const h = c.h;
  for (;;) {
    const seen = c.registerPutWaiter();
    if (seen === null) {
      const again = c.tryPut(value, walked, asBytes);
      if (again !== Status.NotNow) return again;
      continue;
    }
    if (now() >= deadline || signal?.aborted) {
      Atomics.sub(h, H.PutWaiters, 1);
      return Status.NotNow;
    }
    yield { a: h, at: H.PutSeq, expected: seen, ms: remaining(deadline) };
    Atomics.sub(h, H.PutWaiters, 1);
    if (signal?.aborted) return Status.NotNow;
    const again = c.tryPut(value, walked, asBytes);
    if (again !== Status.NotNow || now() >= deadline) return again;
  }
}

/**
 * Takes an item, sleeping on GetSeq while the channel is empty, up to `deadline`. `seen` is what
 * the caller's tryGet returned (it is a registered get waiter); before each sleep the loop spins
 * up to `spinMs` (see ChannelSteps.spin).
 * @example
 * runSync(getLoop(steps, seen, deadlineOf(100), 0.1, undefined)) // { s: Status.Ok, v: item }
 */
export function* getLoop(
  c: ChannelSteps,
  seen: number,
  deadline: number,
  spinMs: number,
  signal: AbortSignal | undefined,
): WaitLoop<GetResult> {
  const h = c.h;
  for (let r: GetResult | number = seen; ; r = c.tryGet()) {
    if (typeof r !== 'number') return r;
    if (now() >= deadline || signal?.aborted) {
      Atomics.sub(h, H.GetWaiters, 1);
      return kEmpty;
    }
    if (c.spin(r, deadline, spinMs))
      yield { a: h, at: H.GetSeq, expected: r, ms: remaining(deadline) };
    Atomics.sub(h, H.GetWaiters, 1);
    if (signal?.aborted) return kEmpty;
  }
}

/**
 * What a readiness wait waits for: the step that checks it (true, or the sequence number to
 * sleep on after registering as a waiter), that sequence word and that waiter count.
 * @example
 * const r = kPollReady.step(steps) // true, or a sequence number
 */
export interface Readiness {
  readonly step: (c: ChannelSteps) => true | number;
  readonly seq: H;
  readonly waiters: H;
}

/**
 * Readable: an item is there, or the channel is closed/EOF.
 * @example
 * runSync(readyLoop(steps, kPollReady, seen, deadline, undefined))
 */
export const kPollReady: Readiness = {
  step: (c) => c.ready(),
  seq: H.PollSeq,
  waiters: H.PollWaiters,
};

/**
 * Joined: every item put has been marked done.
 * @example
 * runSync(readyLoop(steps, kJoinReady, seen, deadline, undefined))
 */
export const kJoinReady: Readiness = {
  step: (c) => c.joinReady(),
  seq: H.JoinSeq,
  waiters: H.JoinWaiters,
};

/**
 * Waits until `what` holds (true) or `deadline` passes (false). `seen` is what the caller's
 * step returned (it is a registered waiter).
 * @example
 * const r = steps.ready(); if (r !== true) runSync(readyLoop(steps, kPollReady, r, end, undefined))
 */
export function* readyLoop(
  c: ChannelSteps,
  what: Readiness,
  seen: number,
  deadline: number,
  signal: AbortSignal | undefined,
): WaitLoop<boolean> {
  const h = c.h;
  for (let r: true | number = seen; ; r = what.step(c)) {
    if (r === true) return true;
    const expired = now() >= deadline || signal?.aborted === true;
    if (!expired) yield { a: h, at: what.seq, expected: r, ms: remaining(deadline) };
    Atomics.sub(h, what.waiters, 1);
    if (expired || signal?.aborted) return false;
  }
}

const kNoHook = (): void => {};

/** Makes an abort of `signal` wake the waiters of `h[slot]`; returns the unhook function. */
function wakeOnAbort(h: Int32Array, slot: H, signal: AbortSignal | undefined): () => void {
  if (!signal) return kNoHook;
  const wake = (): void => void notify(h, slot);
  signal.addEventListener('abort', wake, { once: true });
  return () => signal.removeEventListener('abort', wake);
}

/**
 * The async driver of the loops above: from their first wait on, keeps the event loop alive
 * (once for all their waits) and makes an abort of `signal` wake them.
 */
async function run<T>(
  loop: WaitLoop<T>,
  h: Int32Array,
  slot: H,
  signal: AbortSignal | undefined,
): Promise<T> {
  let step = loop.next();
  if (step.done === true) return step.value;
  const release = keepAlive();
  const unhook = wakeOnAbort(h, slot, signal);
  try {
    while (step.done !== true) {
      const w = step.value;
      step = loop.next(await waitAsync(w.a, w.at, w.expected, w.ms));
    }
    return step.value;
  } finally {
    unhook();
    release();
  }
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
  const loop = putLoop(c, value, walked, asBytes, deadlineOf(timeout), signal);
  return run(loop, c.h, H.PutSeq, signal);
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
  const r = c.tryGet();
  if (typeof r !== 'number') return Promise.resolve(r);
  return run(getLoop(c, r, deadlineOf(timeout), kSpinAsyncMs, signal), c.h, H.GetSeq, signal);
}

/**
 * Waits up to `timeout` ms until an item is there or the channel is closed/EOF.
 * @example
 * if (await pollAsync(steps, 100)) console.log('readable')
 */
export async function pollAsync(
  c: ChannelSteps,
  timeout: number | undefined,
  signal?: AbortSignal,
): Promise<boolean> {
  const r = c.ready();
  if (r === true) return true;
  return run(readyLoop(c, kPollReady, r, deadlineOf(timeout), signal), c.h, H.PollSeq, signal);
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
  const r = c.joinReady();
  if (r === true) return true;
  return run(readyLoop(c, kJoinReady, r, deadlineOf(timeout), signal), c.h, H.JoinSeq, signal);
}
