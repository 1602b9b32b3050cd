// The queue a manager server holds (Python's queue.Queue): FIFO, optional bound, task accounting.
import { Empty, Full, InvalidStateError } from '../errors.ts';
import { checkInteger } from '../validate.ts';
import {
  type AcquireOptions,
  type Waiter,
  acquireOptions,
  caller,
  first,
  park,
} from './sync-referents.ts';

/** A FIFO queue with optional bound and task accounting (Python's queue.Queue). */
export class QueueReferent {
  readonly #maxsize: number;
  #items: unknown[] = [];
  #head = 0;
  #unfinished = 0;
  readonly #getters = new Set<Waiter>();
  readonly #putters = new Set<Waiter>();
  readonly #joiners = new Set<Waiter>();

  constructor(maxsize = 0) {
    // As Python's queue.Queue (and mp.Queue): maxsize ≤ 0 means unbounded.
    checkInteger(maxsize, 'maxsize', Number.MIN_SAFE_INTEGER);
    this.#maxsize = Math.max(0, maxsize);
  }
  #size(): number {
    return this.#items.length - this.#head;
  }
  async put(item: unknown, options?: AcquireOptions): Promise<void> {
    const who = caller();
    const { wait, timeout } = acquireOptions(options);
    const deadline = timeout === undefined || timeout === null ? Infinity : Date.now() + timeout;
    while (this.#maxsize > 0 && this.#size() >= this.#maxsize) {
      const left = deadline - Date.now();
      if (!wait || left <= 0) throw new Full();
      await park(this.#putters, who, left === Infinity ? undefined : left);
    }
    this.#items.push(item);
    this.#unfinished += 1;
    first(this.#getters)?.wake();
  }
  async get(options?: AcquireOptions): Promise<unknown> {
    const who = caller();
    const { wait, timeout } = acquireOptions(options);
    const deadline = timeout === undefined || timeout === null ? Infinity : Date.now() + timeout;
    // Woken callers re-check: an item is taken only by a caller that is still there.
    while (this.#size() === 0) {
      const left = deadline - Date.now();
      if (!wait || left <= 0) throw new Empty();
      await park(this.#getters, who, left === Infinity ? undefined : left);
    }
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    first(this.#putters)?.wake();
    return item;
  }
  putNowait(item: unknown): Promise<void> {
    return this.put(item, { block: false });
  }
  getNowait(): Promise<unknown> {
    return this.get({ block: false });
  }
  qsize(): number {
    return this.#size();
  }
  empty(): boolean {
    return this.#size() === 0;
  }
  full(): boolean {
    return this.#maxsize > 0 && this.#size() >= this.#maxsize;
  }
  taskDone(): void {
    if (this.#unfinished <= 0)
      throw new InvalidStateError(
        'taskDone() called too many times',
        'ERR_RELEASED_TOO_MANY_TIMES',
      );
    this.#unfinished -= 1;
    if (this.#unfinished === 0) for (const waiter of [...this.#joiners]) waiter.wake();
  }
  async join(): Promise<void> {
    const who = caller();
    while (this.#unfinished > 0) await park(this.#joiners, who, undefined);
  }
}
