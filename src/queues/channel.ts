// The channel core: a growable ring of serialized items in one SharedArrayBuffer, shared by queues and pipes.
//
// Layout: a 128-byte header of Int32 words (below), then the data region. The buffer is a
// growable SharedArrayBuffer (Node 20 supports them and shares them between threads): when a
// record does not fit, the holder of the lock grows it in place and every thread sees the new
// length, so an unbounded put and a pipe's send never wait for space. Records are
// [int32 length, int32 tag, payload padded to 8 bytes]; when the writer wraps to the front it
// stores the wrap point in the header (no marker record).
//
// Waiting: readers wait on kGetSeq, bounded writers on kPutSeq, join() on kJoinSeq, poll()/wait()
// on kPollSeq. A sequence word is bumped under the lock and notified after it only when the
// matching waiter count is non-zero, so a busy producer does no syscall per item.
import { availableParallelism } from 'node:os';
import { type CoreState, type SharedCore, registerCore } from '../shared/core.ts';
import {
  type DataViews,
  Tag,
  finish,
  prepare,
  readPayload,
  viewsOf,
  writePayload,
} from './codec.ts';
import {
  deadlineOf,
  keepAlive,
  mutexLockSync,
  mutexUnlock,
  now,
  remaining,
  waitAsync as futexWaitAsync,
  waitSync as futexWaitSync,
} from '../shared/atomics.ts';

/** Blocks until `h[slot]` is no longer `seen`, a notify, or the deadline. */
function waitSync(h: Int32Array, slot: number, seen: number, deadline: number): void {
  const left = remaining(deadline);
  if (left > 0) futexWaitSync(h, slot, seen, left);
}

/** Resolves when `h[slot]` is no longer `seen`, on a notify, or at the deadline (undefined if past). */
function waitAsync(
  h: Int32Array,
  slot: number,
  seen: number,
  deadline: number,
): Promise<unknown> | undefined {
  const left = remaining(deadline);
  return left > 0 ? futexWaitAsync(h, slot, seen, left) : undefined;
}

const enum H {
  Lock = 0,
  Count,
  Head,
  Tail,
  WrapAt,
  Cap,
  Closed,
  GetSeq,
  PutSeq,
  GetWaiters,
  PutWaiters,
  Maxsize,
  Unfinished,
  JoinSeq,
  JoinWaiters,
  Writers,
  Readers,
  PollSeq,
  PollWaiters,
}

const kHeaderBytes = 128;
const kInitialData = 4096;
/** Virtual reservation per channel; only what is used is committed. */
const kMaxData = 1 << 30;
/**
 * How long an empty blocking get spins before it sleeps (ms). A reply that comes within that
 * time is taken without a futex wake-up, which costs tens of µs on a virtual machine (W5: 50 µs
 * → 2 µs per round trip here). Only blocking gets spin — a worker thread waiting has its core to
 * itself for that moment; async gets (the main thread's event loop) never spin. Off on one CPU.
 */
const kSpinMs = availableParallelism() > 1 ? 0.1 : 0;
const kSpinAsyncMs = 0;

/** The registry kind of channel cores. */
export const kChannelKind = 'mp.Channel';

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

/** Metadata of a channel: 'queue' channels close for everyone; 'pipe' channels count holders. */
export interface ChannelMeta {
  readonly mode: 'queue' | 'pipe';
  /** 0 = unbounded (fixed at creation: lets a child process buffer its puts, see feeder.ts). */
  readonly maxsize: number;
}

const kEmpty: GetResult = { s: Status.NotNow };
const kClosed: GetResult = { s: Status.Closed };

function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Creates the state of a new channel.
 * @example
 * const core = new ChannelCore(createChannelState('queue', 0))
 */
export function createChannelState(mode: 'queue' | 'pipe', maxsize: number): CoreState {
  let sab: SharedArrayBuffer;
  try {
    sab = new SharedArrayBuffer(kHeaderBytes + kInitialData, {
      maxByteLength: kHeaderBytes + kMaxData,
    });
  } catch {
    // A tight address-space limit (ulimit -v): reserve less.
    sab = new SharedArrayBuffer(kHeaderBytes + kInitialData, {
      maxByteLength: kHeaderBytes + (kMaxData >> 4),
    });
  }
  const h = new Int32Array(sab, 0, kHeaderBytes >> 2);
  h[H.Cap] = kInitialData;
  h[H.WrapAt] = -1;
  h[H.Maxsize] = maxsize;
  h[H.Writers] = mode === 'pipe' ? 1 : 0;
  h[H.Readers] = mode === 'pipe' ? 1 : 0;
  const meta: ChannelMeta = { mode, maxsize };
  return { buffers: [sab], meta };
}

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
  readonly #sab: SharedArrayBuffer;
  readonly #h: Int32Array;
  readonly #pipe: boolean;
  #cap = 0;
  #v!: DataViews;

  constructor(state: CoreState) {
    this.state = state;
    this.#sab = state.buffers[0]!;
    this.#h = new Int32Array(this.#sab, 0, kHeaderBytes >> 2);
    this.#pipe = (state.meta as ChannelMeta).mode === 'pipe';
  }

  /** Refreshes the data views if another thread grew the buffer (call under the lock). */
  #views(): DataViews {
    const cap = this.#h[H.Cap]!;
    if (cap !== this.#cap) {
      this.#cap = cap;
      this.#v = viewsOf(this.#sab, kHeaderBytes, cap);
    }
    return this.#v;
  }

  #lock(): void {
    mutexLockSync(this.#h, H.Lock, Infinity);
  }
  #unlock(): void {
    mutexUnlock(this.#h, H.Lock);
  }

  /** Bumps a sequence word under the lock if someone waits on it; returns whether to notify. */
  #bump(seq: H, waiters: H): boolean {
    if (Atomics.load(this.#h, waiters) === 0) return false;
    Atomics.add(this.#h, seq, 1);
    return true;
  }

  // ---- space management (under the lock) ----

  /** Reserves `r` bytes for a record and returns their offset in the data region. */
  #reserve(r: number): number {
    const h = this.#h;
    if (h[H.Count] === 0) {
      h[H.Head] = 0;
      h[H.Tail] = 0;
      h[H.WrapAt] = -1;
    }
    for (;;) {
      const cap = h[H.Cap]!;
      const head = h[H.Head]!;
      const tail = h[H.Tail]!;
      if (h[H.WrapAt]! < 0) {
        if (cap - tail >= r) {
          h[H.Tail] = tail + r;
          return tail;
        }
        if (head >= r) {
          h[H.WrapAt] = tail;
          h[H.Tail] = r;
          return 0;
        }
      } else if (head - tail >= r) {
        h[H.Tail] = tail + r;
        return tail;
      }
      this.#grow(r);
    }
  }

  /** Grows the data region in place so that `r` more bytes fit after the data, linearized. */
  #grow(r: number): void {
    const h = this.#h;
    const cap = h[H.Cap]!;
    const head = h[H.Head]!;
    const tail = h[H.Tail]!;
    const wrapAt = h[H.WrapAt]!;
    const used = wrapAt < 0 ? tail - head : wrapAt - head + tail;
    let next = cap * 2;
    while (next < used + r + head) next *= 2;
    const limit = this.#sab.maxByteLength - kHeaderBytes;
    if (next > limit) {
      if (used + r + head > limit) {
        throw new RangeError(
          `A queue or pipe cannot hold more than ${limit} bytes at once (an item of ${r} bytes does not fit)`,
        );
      }
      next = limit;
    }
    this.#sab.grow(kHeaderBytes + next);
    h[H.Cap] = next;
    const v = this.#views();
    if (wrapAt >= 0) {
      // [head, wrapAt) then [0, tail): make it one run starting at 0.
      const first = v.u8.slice(head, wrapAt);
      v.u8.copyWithin(first.byteLength, 0, tail);
      v.u8.set(first, 0);
      h[H.Head] = 0;
      h[H.Tail] = first.byteLength + tail;
      h[H.WrapAt] = -1;
    }
  }

  /** Pops the oldest record (under the lock, Count > 0); v8 payloads come back as bytes. */
  #pop(): { tag: Tag; raw: unknown } {
    const h = this.#h;
    const v = this.#views();
    let head = h[H.Head]!;
    if (head === h[H.WrapAt]) {
      head = 0;
      h[H.WrapAt] = -1;
    }
    const len = v.i32[head >> 2]!;
    const tag = v.i32[(head >> 2) + 1]! as Tag;
    const raw = readPayload(v, head + 8, tag, len);
    head += 8 + align8(len);
    if (head === h[H.WrapAt]) {
      head = 0;
      h[H.WrapAt] = -1;
    }
    h[H.Head] = head;
    h[H.Count] = h[H.Count]! - 1;
    return { tag, raw };
  }

  // ---- put ----

  /** Tries to store the item now; NotNow when a bounded queue is full. */
  #tryPut(value: unknown, walked: boolean, asBytes: boolean): Status {
    const p = prepare(value, walked, asBytes);
    const h = this.#h;
    let wake: boolean;
    let wakePoll: boolean;
    this.#lock();
    try {
      if (this.#pipe ? h[H.Readers] === 0 : h[H.Closed] !== 0)
        return this.#pipe ? Status.Broken : Status.Closed;
      const max = h[H.Maxsize]!;
      if (max > 0 && h[H.Count]! >= max) return Status.NotNow;
      const at = this.#reserve(8 + align8(p.size));
      const v = this.#views();
      v.i32[at >> 2] = p.size;
      v.i32[(at >> 2) + 1] = p.tag;
      writePayload(v, at + 8, p);
      h[H.Count] = h[H.Count]! + 1;
      h[H.Unfinished] = h[H.Unfinished]! + 1;
      wake = this.#bump(H.GetSeq, H.GetWaiters);
      wakePoll = this.#bump(H.PollSeq, H.PollWaiters);
    } finally {
      this.#unlock();
      p.value = null;
      p.bytes = null;
    }
    if (wake) Atomics.notify(h, H.GetSeq, 1);
    if (wakePoll) Atomics.notify(h, H.PollSeq);
    return Status.Ok;
  }

  /**
   * Stores a batch of items without waiting (a child process's buffered puts, see feeder.ts);
   * stops at the first that is refused and says how many were stored.
   */
  putMany(items: readonly (readonly [value: unknown, walked: boolean])[]): {
    s: Status;
    done: number;
  } {
    for (let i = 0; i < items.length; i++) {
      const s = this.#tryPut(items[i]![0], items[i]![1], false);
      if (s !== Status.Ok) return { s, done: i };
    }
    return { s: Status.Ok, done: items.length };
  }

  /** Stores an item without waiting: Ok, NotNow (full), Closed or Broken. */
  putNowait(value: unknown, walked: boolean, asBytes = false): Status {
    return this.#tryPut(value, walked, asBytes);
  }

  /** Stores an item, blocking while a bounded queue is full (up to `timeout` ms). */
  putSync(value: unknown, walked: boolean, timeout: number | undefined, asBytes = false): Status {
    const s = this.#tryPut(value, walked, asBytes);
    if (s !== Status.NotNow) return s;
    const deadline = deadlineOf(timeout);
    for (;;) {
      const seen = this.#registerPutWaiter();
      if (seen === null) {
        const again = this.#tryPut(value, walked, asBytes);
        if (again !== Status.NotNow) return again;
        continue;
      }
      if (now() >= deadline) {
        Atomics.sub(this.#h, H.PutWaiters, 1);
        return Status.NotNow;
      }
      waitSync(this.#h, H.PutSeq, seen, deadline);
      Atomics.sub(this.#h, H.PutWaiters, 1);
      const again = this.#tryPut(value, walked, asBytes);
      if (again !== Status.NotNow || now() >= deadline) return again;
    }
  }

  /** As putSync, without blocking the thread. */
  async putAsync(
    value: unknown,
    walked: boolean,
    timeout: number | undefined,
    asBytes = false,
  ): Promise<Status> {
    const s = this.#tryPut(value, walked, asBytes);
    if (s !== Status.NotNow) return s;
    const deadline = deadlineOf(timeout);
    const release = keepAlive();
    try {
      for (;;) {
        const seen = this.#registerPutWaiter();
        if (seen === null) {
          const again = this.#tryPut(value, walked, asBytes);
          if (again !== Status.NotNow) return again;
          continue;
        }
        const pending = waitAsync(this.#h, H.PutSeq, seen, deadline);
        if (pending) await pending;
        Atomics.sub(this.#h, H.PutWaiters, 1);
        const again = this.#tryPut(value, walked, asBytes);
        if (again !== Status.NotNow || now() >= deadline) return again;
      }
    } finally {
      release();
    }
  }

  /** Under the lock: if still full, count ourselves as a put waiter and return the sequence to wait on; null if there is room now. */
  #registerPutWaiter(): number | null {
    const h = this.#h;
    this.#lock();
    try {
      const max = h[H.Maxsize]!;
      if (h[H.Closed] !== 0 || h[H.Count]! < max) return null;
      Atomics.add(h, H.PutWaiters, 1);
      return h[H.PutSeq]!;
    } finally {
      this.#unlock();
    }
  }

  // ---- get ----

  /** Pops an item now, or returns the sequence to wait on (as a number) when empty and open. */
  #tryGet(): GetResult | number {
    const h = this.#h;
    let popped: { tag: Tag; raw: unknown };
    let wakePut = false;
    let wakeGet = false;
    this.#lock();
    try {
      if (h[H.Count] === 0) {
        if (this.#pipe ? h[H.Writers] === 0 : h[H.Closed] !== 0) return kClosed;
        Atomics.add(h, H.GetWaiters, 1);
        return h[H.GetSeq]!;
      }
      popped = this.#pop();
      if (h[H.Maxsize]! > 0) wakePut = this.#bump(H.PutSeq, H.PutWaiters);
      // Chain the wake-up: another waiter may be owed an item that is already here.
      if (h[H.Count]! > 0) wakeGet = this.#bump(H.GetSeq, H.GetWaiters);
    } finally {
      this.#unlock();
    }
    if (wakePut) Atomics.notify(h, H.PutSeq, 1);
    if (wakeGet) Atomics.notify(h, H.GetSeq, 1);
    const { tag, raw } = popped;
    return { s: Status.Ok, v: finish(tag, raw), w: tag === Tag.V8Walked };
  }

  /** Takes an item without waiting: Ok, NotNow (empty) or Closed (closed/EOF and drained). */
  getNowait(): GetResult {
    const r = this.#tryGet();
    if (typeof r !== 'number') return r;
    Atomics.sub(this.#h, H.GetWaiters, 1);
    return kEmpty;
  }

  /** Takes an item, blocking up to `timeout` ms while empty. */
  getSync(timeout: number | undefined): GetResult {
    const deadline = deadlineOf(timeout);
    for (;;) {
      const r = this.#tryGet();
      if (typeof r !== 'number') return r;
      if (now() >= deadline) {
        Atomics.sub(this.#h, H.GetWaiters, 1);
        return kEmpty;
      }
      if (this.#spin(r, deadline)) waitSync(this.#h, H.GetSeq, r, deadline);
      Atomics.sub(this.#h, H.GetWaiters, 1);
    }
  }

  /**
   * Spins briefly while the get sequence is still `seen` (we are a registered waiter, so a put
   * bumps it). A reply that comes within microseconds is then taken without a futex sleep or,
   * for async gets, an event-loop turn; returns whether the caller still has to wait.
   */
  #spin(seen: number, deadline: number, ms = kSpinMs): boolean {
    const h = this.#h;
    const end = Math.min(deadline, now() + ms);
    for (;;) {
      for (let i = 0; i < 64; i++) if (Atomics.load(h, H.GetSeq) !== seen) return false;
      if (now() >= end) return true;
    }
  }

  /** As getSync, without blocking the thread. */
  getAsync(timeout: number | undefined): Promise<GetResult> {
    let r = this.#tryGet();
    if (typeof r !== 'number') return Promise.resolve(r);
    const deadline = deadlineOf(timeout);
    if (!this.#spin(r, deadline, kSpinAsyncMs)) {
      Atomics.sub(this.#h, H.GetWaiters, 1);
      r = this.#tryGet();
      if (typeof r !== 'number') return Promise.resolve(r);
    }
    return this.#getSlow(r, deadline);
  }

  async #getSlow(seen: number, deadline: number): Promise<GetResult> {
    const release = keepAlive();
    try {
      for (;;) {
        const pending = waitAsync(this.#h, H.GetSeq, seen, deadline);
        if (pending) await pending;
        Atomics.sub(this.#h, H.GetWaiters, 1);
        const r = this.#tryGet();
        if (typeof r !== 'number') return r;
        if (now() >= deadline) {
          Atomics.sub(this.#h, H.GetWaiters, 1);
          return kEmpty;
        }
        seen = r;
      }
    } finally {
      release();
    }
  }

  // ---- poll (readiness without consuming) ----

  /** Whether a get would return at once (an item, or closed/EOF), else the sequence to wait on. */
  #ready(): true | number {
    const h = this.#h;
    if (Atomics.load(h, H.Count) > 0) return true;
    this.#lock();
    try {
      if (h[H.Count]! > 0 || (this.#pipe ? h[H.Writers] === 0 : h[H.Closed] !== 0)) return true;
      Atomics.add(h, H.PollWaiters, 1);
      return h[H.PollSeq]!;
    } finally {
      this.#unlock();
    }
  }

  /** Waits up to `timeout` ms (default 0) until an item is there or the channel is closed/EOF. */
  pollSync(timeout: number | undefined = 0): boolean {
    return this.#blockUntil(() => this.#ready(), H.PollSeq, H.PollWaiters, timeout);
  }

  /**
   * Blocks until `ready()` is true or the deadline passes. `ready()` returns true, or the
   * sequence number it saw after registering as a waiter in `waiters`; we sleep on `seq`.
   */
  #blockUntil(
    ready: () => true | number,
    seq: H,
    waiters: H,
    timeout: number | undefined,
  ): boolean {
    const deadline = deadlineOf(timeout);
    for (;;) {
      const r = ready();
      if (r === true) return true;
      const expired = now() >= deadline;
      if (!expired) waitSync(this.#h, seq, r, deadline);
      Atomics.sub(this.#h, waiters, 1);
      if (expired) return false;
    }
  }

  /** As pollSync, without blocking the thread; does not keep the event loop alive by itself. */
  async pollAsync(timeout: number | undefined = 0): Promise<boolean> {
    const deadline = deadlineOf(timeout);
    for (;;) {
      const r = this.#ready();
      if (r === true) return true;
      const pending = waitAsync(this.#h, H.PollSeq, r, deadline);
      if (pending) await pending;
      Atomics.sub(this.#h, H.PollWaiters, 1);
      if (now() >= deadline) return this.#ready() === true || this.#unpoll();
    }
  }

  #unpoll(): false {
    Atomics.sub(this.#h, H.PollWaiters, 1);
    return false;
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
    const h = this.#h;
    this.#lock();
    h[H.Closed] = 1;
    Atomics.add(h, H.GetSeq, 1);
    Atomics.add(h, H.PutSeq, 1);
    Atomics.add(h, H.PollSeq, 1);
    this.#unlock();
    Atomics.notify(h, H.GetSeq);
    Atomics.notify(h, H.PutSeq);
    Atomics.notify(h, H.PollSeq);
  }

  /** A pipe end starts being held by one more holder (a handle was sent somewhere). */
  addHolder(role: Role): void {
    Atomics.add(this.#h, role === Role.Writer ? H.Writers : H.Readers, 1);
  }

  /** A holder closed its end (or exited); the last writer gone means EOF for readers. */
  dropHolder(role: Role): void {
    const h = this.#h;
    this.#lock();
    const slot = role === Role.Writer ? H.Writers : H.Readers;
    const left = (h[slot] = Math.max(0, h[slot]! - 1));
    if (left === 0 && role === Role.Writer) {
      Atomics.add(h, H.GetSeq, 1);
      Atomics.add(h, H.PollSeq, 1);
    }
    this.#unlock();
    if (left === 0 && role === Role.Writer) {
      Atomics.notify(h, H.GetSeq);
      Atomics.notify(h, H.PollSeq);
    }
  }

  // ---- JoinableQueue ----

  /** Marks one task done: Ok, or NotNow when called more times than items were put. */
  taskDone(): Status {
    const h = this.#h;
    let wake = false;
    this.#lock();
    try {
      const left = h[H.Unfinished]!;
      if (left <= 0) return Status.NotNow;
      h[H.Unfinished] = left - 1;
      if (left === 1) wake = this.#bump(H.JoinSeq, H.JoinWaiters);
    } finally {
      this.#unlock();
    }
    if (wake) Atomics.notify(h, H.JoinSeq);
    return Status.Ok;
  }

  /** Unfinished tasks. */
  unfinished(): number {
    return Atomics.load(this.#h, H.Unfinished);
  }

  #joinReady(): true | number {
    const h = this.#h;
    this.#lock();
    try {
      if (h[H.Unfinished] === 0) return true;
      Atomics.add(h, H.JoinWaiters, 1);
      return h[H.JoinSeq]!;
    } finally {
      this.#unlock();
    }
  }

  /** Blocks until every item put has been marked done (or `timeout` ms); returns whether it has. */
  joinSync(timeout: number | undefined): boolean {
    return this.#blockUntil(() => this.#joinReady(), H.JoinSeq, H.JoinWaiters, timeout);
  }

  /** As joinSync, without blocking the thread. */
  async joinAsync(timeout: number | undefined): Promise<boolean> {
    const deadline = deadlineOf(timeout);
    const release = keepAlive();
    try {
      for (;;) {
        const r = this.#joinReady();
        if (r === true) return true;
        const expired = now() >= deadline;
        if (!expired) {
          const pending = waitAsync(this.#h, H.JoinSeq, r, deadline);
          if (pending) await pending;
        }
        Atomics.sub(this.#h, H.JoinWaiters, 1);
        if (expired) return false;
      }
    } finally {
      release();
    }
  }
}

registerCore(kChannelKind, (state) => new ChannelCore(state));
