// Queue, JoinableQueue and SimpleQueue: Python's process queues over a shared channel core.
import { Empty, Full, InvalidStateError } from './errors.ts';
import {
  type Destination,
  type Reducible,
  kReduce,
  noteReducible,
  registerReviver,
} from './reduction/values.ts';
import { type GetResult, Status } from './queues/channel-steps.ts';
import { cloneFailure, decodeItem, encodeItem, itemWalked } from './queues/items.ts';
import {
  type Channel,
  type ChannelHandle,
  newChannel,
  reduceChannel,
  reviveChannel,
} from './queues/share.ts';
import { checkBoolean, checkInteger, checkKnown, checkOptions, checkTimeout } from './validate.ts';

/** Options of a put or get: `block: false` never waits; `timeout` (ms) bounds the wait. */
export interface QueueWaitOptions {
  block?: boolean | undefined;
  timeout?: number | undefined;
}

const kKind = 'mp.Queue';
const kRevive = Symbol('revive');
/** Internal access to a queue's channel (wait() uses it). */
export const kChannel = Symbol('channel');

type QueueType = 'Queue' | 'JoinableQueue' | 'SimpleQueue';
interface QueueHandle {
  readonly type: QueueType;
  readonly channel: ChannelHandle;
}

/** Validates wait options and returns the effective timeout (0 when `block` is false). */
function waitTimeout(opts: QueueWaitOptions | undefined): number | undefined {
  checkOptions(opts, 'options');
  if (!opts) return undefined;
  checkKnown(opts, 'options', ['block', 'timeout']);
  checkBoolean(opts.block, 'options.block');
  checkTimeout(opts.timeout, 'options.timeout');
  if (opts.block === false) return 0;
  return opts.timeout ?? undefined;
}

function closedError(): InvalidStateError {
  return new InvalidStateError('Queue is closed', 'ERR_CLOSED');
}

function putOutcome(s: Status): void {
  if (s === Status.Ok) return;
  if (s === Status.NotNow) throw new Full();
  throw closedError();
}

function getOutcome(r: GetResult): unknown {
  if (r.s === Status.Ok) return decodeItem(r);
  if (r.s === Status.NotNow) throw new Empty();
  throw closedError();
}

/** Shared machinery of the three queue classes. */
abstract class BaseQueue<T> implements Reducible {
  readonly #channel: Channel;

  constructor(channel: Channel) {
    this.#channel = channel;
    noteReducible();
  }

  /** @internal */
  get [kChannel](): Channel {
    return this.#channel;
  }

  protected abstract readonly type: QueueType;

  protected putNow(item: T, timeout: number | undefined): void {
    const value = encodeItem(item);
    let s: Status;
    try {
      s = this.#channel.putSync(value, itemWalked(), timeout);
    } catch (e) {
      cloneFailure(e, 'this item through a queue');
    }
    putOutcome(s);
  }

  protected async putLater(item: T, timeout: number | undefined): Promise<void> {
    const value = encodeItem(item);
    let s: Status;
    try {
      s = await this.#channel.putAsync(value, itemWalked(), timeout);
    } catch (e) {
      cloneFailure(e, 'this item through a queue');
    }
    putOutcome(s);
  }

  protected getNow(timeout: number | undefined): T {
    return getOutcome(this.#channel.getSync(timeout)) as T;
  }

  protected async getLater(timeout: number | undefined): Promise<T> {
    return getOutcome(await this.#channel.getAsync(timeout)) as T;
  }

  /** Whether the queue holds no items (approximate while others use it). */
  empty(): boolean {
    return this.#channel.qsize() === 0;
  }

  /**
   * Closes the queue for everyone (like a Go channel): later puts fail with InvalidStateError
   * `ERR_CLOSED` anywhere, gets drain what is left and then fail the same way, and `for await`
   * ends. Idempotent.
   */
  close(): void {
    this.#channel.close();
  }

  /** Yields items until the queue is closed and drained. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const r = await this.#channel.getAsync(undefined);
      if (r.s !== Status.Ok) return;
      yield decodeItem(r) as T;
    }
  }

  /** @internal The handle this queue travels as. */
  [kReduce](destination: Destination): { kind: string; state: QueueHandle } {
    return {
      kind: kKind,
      state: { type: this.type, channel: reduceChannel(this.#channel, destination) },
    };
  }
}

function newQueueChannel(maxsize: number): Channel {
  checkInteger(maxsize, 'maxsize', Number.MIN_SAFE_INTEGER);
  return newChannel('queue', maxsize <= 0 ? 0 : Math.min(maxsize, 0x7fffffff));
}

/**
 * A FIFO queue shared by every process and thread it is passed to, as Python's
 * `multiprocessing.Queue`. `maxsize` ≤ 0 means unbounded (the buffer grows as needed); a
 * bounded queue makes `put` wait while full. Items of one producer arrive in order.
 * @example
 * const q = new mp.Queue<number>()
 * const p = new mp.Process({ target: (q: mp.Queue<number>) => q.putSync(42), args: [q] })
 * p.start()
 * console.log(await q.get()) // 42
 * await p.join()
 */
export class Queue<T = unknown> extends BaseQueue<T> {
  protected readonly type: QueueType = 'Queue';

  constructor(maxsize = 0) {
    super(
      (maxsize as unknown) === kRevive ? (Queue.#reviving as Channel) : newQueueChannel(maxsize),
    );
  }

  static #reviving: Channel | null = null;
  /** @internal Rebuilds a queue of this class around a revived channel. */
  static revive<Q extends Queue<unknown>>(cls: new (m: number) => Q, channel: Channel): Q {
    Queue.#reviving = channel;
    try {
      return new cls(kRevive as unknown as number);
    } finally {
      Queue.#reviving = null;
    }
  }

  /**
   * Puts an item, waiting while a bounded queue is full. Rejects with {@link Full} when it
   * stays full past `timeout` ms (at once with `block: false`), and with InvalidStateError
   * `ERR_CLOSED` on a closed queue.
   */
  async put(item: T, options?: QueueWaitOptions): Promise<void> {
    const timeout = waitTimeout(options);
    return this.putLater(item, timeout);
  }

  /** Puts an item without waiting; throws {@link Full} if there is no room. */
  putNowait(item: T): void {
    this.putNow(item, 0);
  }

  /** As {@link put}, blocking the calling thread (meant for workers). */
  putSync(item: T, options?: QueueWaitOptions): void {
    this.putNow(item, waitTimeout(options));
  }

  /**
   * Takes the oldest item, waiting while the queue is empty. Rejects with {@link Empty} after
   * `timeout` ms (at once with `block: false`), and with InvalidStateError `ERR_CLOSED` once
   * the queue is closed and drained.
   */
  async get(options?: QueueWaitOptions): Promise<T> {
    return this.getLater(waitTimeout(options));
  }

  /** Takes an item without waiting; throws {@link Empty} if there is none. */
  getNowait(): T {
    return this.getNow(0);
  }

  /** As {@link get}, blocking the calling thread (meant for workers). */
  getSync(options?: QueueWaitOptions): T {
    return this.getNow(waitTimeout(options));
  }

  /** The number of items in the queue (approximate while others use it). */
  qsize(): number {
    return this[kChannel].qsize();
  }

  /** Whether a bounded queue is at its maxsize (approximate while others use it). */
  full(): boolean {
    const max = this[kChannel].maxsize();
    return max > 0 && this[kChannel].qsize() >= max;
  }

  /**
   * Python waits here for the feeder thread to flush this process's puts. Here there is nothing
   * left to flush once the queue is closed (puts are written before they return, and a child
   * process's buffered puts into an unbounded queue are sent by close() itself): it resolves
   * once the queue is closed, and rejects with InvalidStateError `ERR_NOT_CLOSED` before.
   */
  async joinThread(): Promise<void> {
    if (!this[kChannel].isClosed())
      throw new InvalidStateError('Queue is not closed', 'ERR_NOT_CLOSED');
  }

  /**
   * Kept for Python parity; does nothing. A child process's buffered puts are still sent when it
   * exits (Python may drop them after cancel_join_thread()).
   */
  cancelJoinThread(): void {}
}

/**
 * A {@link Queue} that counts unfinished items: each `put` adds one, `taskDone()` removes one,
 * and `join()` waits until none are left (the producer/consumer pattern).
 * @example
 * const q = new mp.JoinableQueue<string>()
 * await q.put('job')
 * const job = await q.get(); q.taskDone()
 * await q.join()
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  protected override readonly type: QueueType = 'JoinableQueue';

  /**
   * Marks one item taken with get() as processed. Throws InvalidStateError
   * `ERR_RELEASED_TOO_MANY_TIMES` if called more times than items were put.
   */
  taskDone(): void {
    if (this[kChannel].taskDone() !== Status.Ok) {
      throw new InvalidStateError(
        'taskDone() called too many times',
        'ERR_RELEASED_TOO_MANY_TIMES',
      );
    }
  }

  /** Resolves once every item put has been marked done with taskDone(). */
  async join(): Promise<void> {
    await this[kChannel].joinAsync(undefined);
  }

  /** As {@link join}, blocking the calling thread (meant for workers). */
  joinSync(): void {
    this[kChannel].joinSync(undefined);
  }
}

/**
 * An unbounded queue with only `get`, `put`, `empty` and `close`, as Python's `SimpleQueue`.
 * @example
 * const q = new mp.SimpleQueue<number>()
 * await q.put(1)
 * console.log(await q.get()) // 1
 */
export class SimpleQueue<T = unknown> extends BaseQueue<T> {
  protected readonly type: QueueType = 'SimpleQueue';

  constructor() {
    super(SimpleQueue.#reviving ?? newChannel('queue', 0));
  }

  static #reviving: Channel | null = null;
  /** @internal Rebuilds a SimpleQueue around a revived channel. */
  static revive(channel: Channel): SimpleQueue<unknown> {
    SimpleQueue.#reviving = channel;
    try {
      return new SimpleQueue();
    } finally {
      SimpleQueue.#reviving = null;
    }
  }

  /** Takes the oldest item, waiting while empty; InvalidStateError `ERR_CLOSED` once closed and drained. */
  async get(): Promise<T> {
    return this.getLater(undefined);
  }

  /** As {@link get}, blocking the calling thread (meant for workers). */
  getSync(): T {
    return this.getNow(undefined);
  }

  /** Puts an item (never waits: the queue is unbounded); InvalidStateError `ERR_CLOSED` once closed. */
  async put(item: T): Promise<void> {
    return this.putLater(item, undefined);
  }

  /** As {@link put}, synchronously. */
  putSync(item: T): void {
    this.putNow(item, undefined);
  }
}

registerReviver(kKind, (state: QueueHandle) => {
  const channel = reviveChannel(state.channel);
  switch (state.type) {
    case 'Queue':
      return Queue.revive(Queue, channel);
    case 'JoinableQueue':
      return Queue.revive(JoinableQueue, channel);
    case 'SimpleQueue':
      return SimpleQueue.revive(channel);
    default:
      throw new Error(`assertion failed: unknown queue type ${String(state.type)}`);
  }
});
