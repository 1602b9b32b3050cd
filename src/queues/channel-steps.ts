// What a channel does under its lock without ever waiting: the steps its blocking and async waits retry.
//
// Waiting protocol: readers wait on GetSeq, bounded writers on PutSeq, join() on JoinSeq,
// poll()/wait() on PollSeq. A sequence word is bumped under the lock and notified after it only
// when the matching waiter count is non-zero, so a busy producer does no syscall per item. A
// step that finds nothing to do registers the caller as a waiter and returns the sequence number
// to sleep on; the caller unregisters (Atomics.sub on the waiter count) after its sleep.
import type { CoreState } from '../shared/core.ts';
import { notify, now } from '../shared/atomics.ts';
import { Tag, finish, prepare } from './codec.ts';
import { type ChannelMeta, H, Ring } from './ring.ts';

/** Outcome of a put/get on the core (plain numbers so they cross RPC). */
export const enum Status {
  Ok = 0,
  /** put: full (after the timeout); get: empty (after the timeout). */
  NotNow = 1,
  /** The queue is closed (put), or closed and drained / every writer gone (get). */
  Closed = 2,
  /** A pipe whose every reader has closed its end. */
  Broken = 3,
}

/** What a get returns: its status and, when Ok, the item and whether decode() must walk it. */
export interface GetResult {
  readonly s: Status;
  readonly v?: unknown;
  readonly w?: boolean;
}

/** Which counters of a pipe channel a holder of one end contributes to. */
export const enum Role {
  Reader = 1,
  Writer = 2,
}

/** The result of a get that found the channel empty (and still open). */
export const kEmpty: GetResult = { s: Status.NotNow };
const kClosed: GetResult = { s: Status.Closed };

/**
 * The non-waiting steps of one channel over its {@link Ring}.
 * @example
 * const steps = new ChannelSteps(createChannelState('queue', 0))
 * steps.tryPut(1, false, false) // Status.Ok
 * steps.tryGet() // { s: 0, v: 1, w: false }
 */
export class ChannelSteps {
  /** The header words (see {@link H}); waits sleep on its sequence words. */
  readonly h: Int32Array;
  readonly #ring: Ring;
  readonly #pipe: boolean;

  constructor(state: CoreState) {
    this.#ring = new Ring(state.buffers[0]!);
    this.h = this.#ring.h;
    this.#pipe = (state.meta as ChannelMeta).mode === 'pipe';
  }

  /** Whether a get finds nothing more to come: the queue is closed, or every pipe writer is gone. */
  #ended(): boolean {
    return this.#pipe ? this.h[H.Writers] === 0 : this.h[H.Closed] !== 0;
  }

  // ---- put ----

  /** Tries to store the item now; NotNow when a bounded queue is full. */
  tryPut(value: unknown, walked: boolean, asBytes: boolean): Status {
    const p = prepare(value, walked, asBytes);
    const ring = this.#ring;
    const h = this.h;
    let wake: boolean;
    let wakePoll: boolean;
    ring.lock();
    try {
      if (this.#pipe ? h[H.Readers] === 0 : h[H.Closed] !== 0)
        return this.#pipe ? Status.Broken : Status.Closed;
      const max = h[H.Maxsize]!;
      if (max > 0 && h[H.Count]! >= max) return Status.NotNow;
      ring.push(p);
      h[H.Count] = h[H.Count]! + 1;
      h[H.Unfinished] = h[H.Unfinished]! + 1;
      wake = ring.bump(H.GetSeq, H.GetWaiters);
      wakePoll = ring.bump(H.PollSeq, H.PollWaiters);
    } finally {
      ring.unlock();
      p.value = null;
      p.bytes = null;
    }
    if (wake) notify(h, H.GetSeq, 1);
    if (wakePoll) notify(h, H.PollSeq);
    return Status.Ok;
  }

  /** Under the lock: if still full, count ourselves as a put waiter and return the sequence to wait on; null if there is room now. */
  registerPutWaiter(): number | null {
    const h = this.h;
    this.#ring.lock();
    try {
      const max = h[H.Maxsize]!;
      if (h[H.Closed] !== 0 || h[H.Count]! < max) return null;
      Atomics.add(h, H.PutWaiters, 1);
      return h[H.PutSeq]!;
    } finally {
      this.#ring.unlock();
    }
  }

  // ---- get ----

  /** Pops an item now, or registers a get waiter and returns the sequence to wait on (as a number) when empty and open. */
  tryGet(): GetResult | number {
    const ring = this.#ring;
    const h = this.h;
    let popped: { tag: Tag; raw: unknown };
    let wakePut = false;
    let wakeGet = false;
    ring.lock();
    try {
      if (h[H.Count] === 0) {
        if (this.#ended()) return kClosed;
        Atomics.add(h, H.GetWaiters, 1);
        return h[H.GetSeq]!;
      }
      popped = ring.pop();
      if (h[H.Maxsize]! > 0) wakePut = ring.bump(H.PutSeq, H.PutWaiters);
      // Chain the wake-up: another waiter may be owed an item that is already here.
      if (h[H.Count]! > 0) wakeGet = ring.bump(H.GetSeq, H.GetWaiters);
    } finally {
      ring.unlock();
    }
    if (wakePut) notify(h, H.PutSeq, 1);
    if (wakeGet) notify(h, H.GetSeq, 1);
    const { tag, raw } = popped;
    return { s: Status.Ok, v: finish(tag, raw), w: tag === Tag.V8Walked };
  }

  /**
   * Spins up to `ms` while the get sequence is still `seen` (the caller is a registered waiter,
   * so a put bumps it). A reply that comes within microseconds is then taken without a futex
   * sleep or, for async gets, an event-loop turn; returns whether the caller still has to wait.
   */
  spin(seen: number, deadline: number, ms: number): boolean {
    const h = this.h;
    const end = Math.min(deadline, now() + ms);
    for (;;) {
      for (let i = 0; i < 64; i++) if (Atomics.load(h, H.GetSeq) !== seen) return false;
      if (now() >= end) return true;
    }
  }

  // ---- readiness ----

  /** Whether a get would return at once (an item, or closed/EOF), else registers a poll waiter and returns the sequence to wait on. */
  ready(): true | number {
    const h = this.h;
    if (Atomics.load(h, H.Count) > 0) return true;
    this.#ring.lock();
    try {
      if (h[H.Count]! > 0 || this.#ended()) return true;
      Atomics.add(h, H.PollWaiters, 1);
      return h[H.PollSeq]!;
    } finally {
      this.#ring.unlock();
    }
  }

  /** Whether every item put has been marked done, else registers a join waiter and returns the sequence to wait on. */
  joinReady(): true | number {
    const h = this.h;
    this.#ring.lock();
    try {
      if (h[H.Unfinished] === 0) return true;
      Atomics.add(h, H.JoinWaiters, 1);
      return h[H.JoinSeq]!;
    } finally {
      this.#ring.unlock();
    }
  }

  // ---- state changes ----

  /** Closes the queue for everyone and wakes every waiter. Idempotent. */
  close(): void {
    const h = this.h;
    this.#ring.lock();
    h[H.Closed] = 1;
    Atomics.add(h, H.GetSeq, 1);
    Atomics.add(h, H.PutSeq, 1);
    Atomics.add(h, H.PollSeq, 1);
    this.#ring.unlock();
    notify(h, H.GetSeq);
    notify(h, H.PutSeq);
    notify(h, H.PollSeq);
  }

  /** A holder closed its end (or exited); the last writer gone means EOF for readers. */
  dropHolder(role: Role): void {
    const h = this.h;
    this.#ring.lock();
    const slot = role === Role.Writer ? H.Writers : H.Readers;
    const left = (h[slot] = Math.max(0, h[slot]! - 1));
    if (left === 0 && role === Role.Writer) {
      Atomics.add(h, H.GetSeq, 1);
      Atomics.add(h, H.PollSeq, 1);
    }
    this.#ring.unlock();
    if (left === 0 && role === Role.Writer) {
      notify(h, H.GetSeq);
      notify(h, H.PollSeq);
    }
  }

  /** Marks one task done: Ok, or NotNow when called more times than items were put. */
  taskDone(): Status {
    const h = this.h;
    let wake = false;
    this.#ring.lock();
    try {
      const left = h[H.Unfinished]!;
      if (left <= 0) return Status.NotNow;
      h[H.Unfinished] = left - 1;
      if (left === 1) wake = this.#ring.bump(H.JoinSeq, H.JoinWaiters);
    } finally {
      this.#ring.unlock();
    }
    if (wake) notify(h, H.JoinSeq);
    return Status.Ok;
  }
}
