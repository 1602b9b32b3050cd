// ChannelCore, the registered core of queues and pipes: its public methods, which block the calling thread when they wait.
//
// The memory is a ring of records (ring.ts); every operation retries a non-waiting step
// (channel-steps.ts) and sleeps on the matching sequence word between tries. Those wait loops
// live in channel-waits.ts: the blocking methods run them with runSync, the async twins
// (`xAsync`) without blocking.
import { availableParallelism } from 'node:os';
import { type CoreState, type SharedCore, registerCore } from '../shared/core.ts';
import { deadlineOf, runSync } from '../shared/atomics.ts';
import { ChannelSteps, type GetResult, Role, Status, kEmpty } from './channel-steps.ts';
import {
  getAsync,
  getLoop,
  joinAsync,
  kJoinReady,
  kPollReady,
  pollAsync,
  putAsync,
  putLoop,
  readyLoop,
} from './channel-waits.ts';
import { H } from './ring.ts';
import { callSignal } from '../shared/call-context.ts';

/**
 * How long an empty blocking get spins before it sleeps (ms). A reply that comes within that
 * time is taken without a futex wake-up, which costs tens of µs on a virtual machine (W5: 50 µs
 * → 2 µs per round trip here). Only blocking gets spin — a worker thread waiting has its core to
 * itself for that moment; async gets (the main thread's event loop) never spin. Off on one CPU.
 */
const kSpinMs = availableParallelism() > 1 ? 0.1 : 0;

/** The registry kind of channel cores. */
export const kChannelKind = 'mp.Channel';

/**
 * The algorithm of queues and pipes over one growable SharedArrayBuffer (see the file header).
 * @example
 * const core = new ChannelCore(createChannelState('queue', 0))
 * core.putSync(1, false, undefined)
 * core.getSync(undefined) // { s: 0, v: 1 }
 */
export class ChannelCore implements SharedCore {
  readonly kind = kChannelKind;
  readonly state: CoreState;
  readonly #s: ChannelSteps;
  readonly #h: Int32Array;

  constructor(state: CoreState) {
    this.state = state;
    this.#s = new ChannelSteps(state);
    this.#h = this.#s.h;
  }

  // ---- put ----

  /**
   * Stores a batch of items without waiting (a child process's buffered puts, see feeder.ts);
   * stops at the first that is refused and says how many were stored.
   */
  putMany(items: readonly (readonly [value: unknown, walked: boolean])[]): {
    s: Status;
    done: number;
  } {
    for (let i = 0; i < items.length; i++) {
      const s = this.#s.tryPut(items[i]![0], items[i]![1], false);
      if (s !== Status.Ok) return { s, done: i };
    }
    return { s: Status.Ok, done: items.length };
  }

  /** Stores an item without waiting: Ok, NotNow (full), Closed or Broken. */
  putNowait(value: unknown, walked: boolean, asBytes = false): Status {
    return this.#s.tryPut(value, walked, asBytes);
  }

  /** Stores an item, blocking while a bounded queue is full (up to `timeout` ms). */
  putSync(value: unknown, walked: boolean, timeout: number | undefined, asBytes = false): Status {
    const c = this.#s;
    const s = c.tryPut(value, walked, asBytes);
    if (s !== Status.NotNow) return s;
    return runSync(putLoop(c, value, walked, asBytes, deadlineOf(timeout), undefined));
  }

  /** As putSync, without blocking the thread (run by the broker for a child: stops if it goes away). */
  putAsync(
    value: unknown,
    walked: boolean,
    timeout: number | undefined,
    asBytes = false,
  ): Promise<Status> {
    return putAsync(this.#s, value, walked, timeout, asBytes, callSignal());
  }

  // ---- get ----

  /** Takes an item without waiting: Ok, NotNow (empty) or Closed (closed/EOF and drained). */
  getNowait(): GetResult {
    const r = this.#s.tryGet();
    if (typeof r !== 'number') return r;
    Atomics.sub(this.#h, H.GetWaiters, 1);
    return kEmpty;
  }

  /** Takes an item, blocking up to `timeout` ms while empty. */
  getSync(timeout: number | undefined): GetResult {
    const c = this.#s;
    const deadline = deadlineOf(timeout);
    const r = c.tryGet();
    if (typeof r !== 'number') return r;
    return runSync(getLoop(c, r, deadline, kSpinMs, undefined));
  }

  /** As getSync, without blocking the thread. */
  getAsync(timeout: number | undefined): Promise<GetResult> {
    return getAsync(this.#s, timeout, callSignal());
  }

  // ---- poll (readiness without consuming) ----

  /** Waits up to `timeout` ms (default 0) until an item is there or the channel is closed/EOF. */
  pollSync(timeout: number | undefined = 0): boolean {
    const deadline = deadlineOf(timeout);
    const r = this.#s.ready();
    if (r === true) return true;
    return runSync(readyLoop(this.#s, kPollReady, r, deadline, undefined));
  }

  /**
   * As pollSync, without blocking the thread; does not keep the event loop alive by itself.
   * `signal` (local callers only: it does not cross to the broker) ends the wait with false.
   */
  pollAsync(timeout: number | undefined = 0, signal?: AbortSignal): Promise<boolean> {
    return pollAsync(this.#s, timeout, signal ?? callSignal());
  }

  // ---- state ----

  /** Items waiting. */
  qsize(): number {
    return Atomics.load(this.#h, H.Count);
  }

  /** The bound on items (0: unbounded). */
  maxsize(): number {
    return this.#h[H.Maxsize]!;
  }

  /** Whether the queue was closed. */
  isClosed(): boolean {
    return Atomics.load(this.#h, H.Closed) !== 0;
  }

  /** Closes the queue for everyone and wakes every waiter. Idempotent. */
  close(): void {
    this.#s.close();
  }

  /** A pipe end starts being held by one more holder (a handle was sent somewhere). */
  addHolder(role: Role): void {
    Atomics.add(this.#h, role === Role.Writer ? H.Writers : H.Readers, 1);
  }

  /** A holder closed its end (or exited); the last writer gone means EOF for readers. */
  dropHolder(role: Role): void {
    this.#s.dropHolder(role);
  }

  // ---- JoinableQueue ----

  /** Marks one task done: Ok, or NotNow when called more times than items were put. */
  taskDone(): Status {
    return this.#s.taskDone();
  }

  /** Unfinished tasks. */
  unfinished(): number {
    return Atomics.load(this.#h, H.Unfinished);
  }

  /** Blocks until every item put has been marked done (or `timeout` ms); returns whether it has. */
  joinSync(timeout: number | undefined): boolean {
    const deadline = deadlineOf(timeout);
    const r = this.#s.joinReady();
    if (r === true) return true;
    return runSync(readyLoop(this.#s, kJoinReady, r, deadline, undefined));
  }

  /** As joinSync, without blocking the thread. */
  joinAsync(timeout: number | undefined): Promise<boolean> {
    return joinAsync(this.#s, timeout, callSignal());
  }
}

registerCore(kChannelKind, (state) => new ChannelCore(state));
