// The memory of a channel: a header of Int32 words and a growable ring of records in one SharedArrayBuffer.
//
// Layout: a 128-byte header of Int32 words ({@link H}), then the data region. The buffer is a
// growable SharedArrayBuffer (Node 20 supports them and shares them between threads): when a
// record does not fit, the holder of the lock grows it in place and every thread sees the new
// length, so an unbounded put and a pipe's send never wait for space. Records are
// [int32 length, int32 tag, payload padded to 8 bytes]; when the writer wraps to the front it
// stores the wrap point in the header (no marker record).
import type { CoreState } from '../shared/core.ts';
import { mutexLockSync, mutexUnlock } from '../shared/atomics.ts';
import { type Memory, allocateShared, growShared, kLocalMemory } from '../shared/memory.ts';
import { type DataViews, type Prepared, Tag, readPayload, viewsOf, writePayload } from './codec.ts';

/** The header words of a channel (indexes into its Int32 header). */
export const enum H {
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

/** Metadata of a channel: 'queue' channels close for everyone; 'pipe' channels count holders. */
export interface ChannelMeta {
  readonly mode: 'queue' | 'pipe';
  /** 0 = unbounded (fixed at creation: lets a child process buffer its puts, see feeder.ts). */
  readonly maxsize: number;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Creates the state of a new channel, its buffer from `memory`.
 * @example
 * const core = new ChannelCore(createChannelState('queue', 0))
 */
export function createChannelState(
  mode: 'queue' | 'pipe',
  maxsize: number,
  memory: Memory = kLocalMemory,
): CoreState {
  let sab: SharedArrayBuffer;
  try {
    sab = allocateShared(
      kHeaderBytes + kInitialData,
      { maxByteLength: kHeaderBytes + kMaxData },
      memory,
    );
  } catch {
    // A tight address-space limit (ulimit -v): reserve less.
    sab = allocateShared(
      kHeaderBytes + kInitialData,
      { maxByteLength: kHeaderBytes + (kMaxData >> 4) },
      memory,
    );
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
 * The header, lock and record ring of one channel buffer. `push` and `pop` must be called
 * between `lock()` and `unlock()`.
 * @example
 * const ring = new Ring(createChannelState('queue', 0).buffers[0]!)
 * ring.lock(); ring.push(prepare(1, false)); ring.pop(); ring.unlock()
 */
export class Ring {
  /** The header words (see {@link H}). */
  readonly h: Int32Array;
  readonly #sab: SharedArrayBuffer;
  #cap = 0;
  #v!: DataViews;

  constructor(sab: SharedArrayBuffer) {
    this.#sab = sab;
    this.h = new Int32Array(sab, 0, kHeaderBytes >> 2);
  }

  /** Refreshes the data views if another thread grew the buffer (call under the lock). */
  #views(): DataViews {
    const cap = this.h[H.Cap]!;
    if (cap !== this.#cap) {
      this.#cap = cap;
      this.#v = viewsOf(this.#sab, kHeaderBytes, cap);
    }
    return this.#v;
  }

  /** Takes the channel's lock (blocking; it is only ever held for a few copies). */
  lock(): void {
    mutexLockSync(this.h, H.Lock, Infinity);
  }

  /** Releases the channel's lock. */
  unlock(): void {
    mutexUnlock(this.h, H.Lock);
  }

  /** Bumps a sequence word under the lock if someone waits on it; returns whether to notify. */
  bump(seq: H, waiters: H): boolean {
    if (Atomics.load(this.h, waiters) === 0) return false;
    Atomics.add(this.h, seq, 1);
    return true;
  }

  /** Appends the record of `p` (under the lock); grows the buffer if it does not fit. */
  push(p: Prepared): void {
    const at = this.#reserve(8 + align8(p.size));
    const v = this.#views();
    v.i32[at >> 2] = p.size;
    v.i32[(at >> 2) + 1] = p.tag;
    writePayload(v, at + 8, p);
  }

  /** Reserves `r` bytes for a record and returns their offset in the data region. */
  #reserve(r: number): number {
    const h = this.h;
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
    const h = this.h;
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
    growShared(this.#sab, kHeaderBytes + next);
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
  pop(): { tag: Tag; raw: unknown } {
    const h = this.h;
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
}
