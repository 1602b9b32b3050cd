// imap/imapUnordered: a lazy async iterator that reads its input at most `buffersize` chunks ahead.
import type { FnRef } from '../reduction/functions.ts';
import { ChunkReader } from './chunking.ts';
import { BaseJob, chunkTask } from './jobs.ts';
import type { TaskMode } from './protocol.ts';
import type { JobHost, Task } from './tasks.ts';

/** Options of an imap job, validated by the pool. */
export interface ImapJobOptions {
  readonly chunksize: number;
  readonly buffersize: number;
  readonly ordered: boolean;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly onProgress: ((done: number, total: number | undefined) => void) | undefined;
}

interface Waiter<R> {
  resolve(result: IteratorResult<R>): void;
  reject(error: unknown): void;
}

/**
 * A failure to deliver: at chunk `at` (imap), after the chunks already arrived (imapUnordered,
 * `at` = Infinity), or at once (`at` = −1: abort, terminate).
 */
interface Failure {
  readonly error: unknown;
  readonly at: number;
}

type Take<R> = { value: R } | { error: unknown } | { done: true } | null;

/**
 * The iterator returned by `imap` and `imapUnordered`. Results arrive in input order (imap) or
 * as chunks finish (imapUnordered). The first error ends the iteration: `next()` rejects with it
 * once the results before it (imap) have been read, and later calls report done. Breaking out of
 * `for await` (or calling `return()`) withdraws what is still queued and closes the input.
 */
export class ImapIterator<R> extends BaseJob implements AsyncIterableIterator<R> {
  readonly #fn: FnRef;
  readonly #mode: TaskMode;
  readonly #options: ImapJobOptions;
  readonly #reader: ChunkReader<unknown>;
  readonly #ready = new Map<number, ArrayLike<unknown>>();
  readonly #arrived: ArrayLike<unknown>[] = [];
  readonly #waiters: Waiter<R>[] = [];
  #current: ArrayLike<unknown> | null = null;
  #pos = 0;
  #nextChunk = 0;
  #expect = 0;
  /** Chunks submitted and not yet fully read by the consumer (bounded by buffersize). */
  #outstanding = 0;
  #itemsRead = 0;
  #itemsDone = 0;
  /** An array's length is known from the start; other inputs' once they are exhausted. */
  readonly #knownTotal: number | undefined;
  #inputDone = false;
  #pumping = false;
  #failure: Failure | null = null;
  #ended = false;

  constructor(
    host: JobHost,
    fn: FnRef,
    mode: TaskMode,
    input: Iterable<unknown> | AsyncIterable<unknown>,
    options: ImapJobOptions,
  ) {
    super(host);
    this.#fn = fn;
    this.#mode = mode;
    this.#options = options;
    this.#reader = new ChunkReader(input);
    this.#knownTotal = Array.isArray(input) ? input.length : undefined;
    if (options.signal) this.watchSignal(options.signal, (error) => this.#fail(error, -1, true));
    void this.#pump();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next result; rejects with the first error (see the class description). */
  next(): Promise<IteratorResult<R>> {
    return new Promise<IteratorResult<R>>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#drain();
      void this.#pump();
    });
  }

  /** Stops early: withdraws queued chunks, closes the input; later `next()` calls report done. */
  async return(value?: unknown): Promise<IteratorResult<R>> {
    this.#end();
    this.#drain();
    return { done: true, value: value as R };
  }

  #take(): Take<R> {
    const failure = this.#failure;
    if (failure && failure.at < 0) return this.#deliverFailure(failure);
    while (true) {
      const current = this.#current;
      if (current) {
        const value = current[this.#pos++] as R;
        if (this.#pos >= current.length) {
          this.#current = null;
          this.#outstanding -= 1;
        }
        return { value };
      }
      if (this.#ended) return { done: true };
      const next = this.#options.ordered ? this.#ready.get(this.#expect) : this.#arrived.shift();
      if (next) {
        if (this.#options.ordered) this.#ready.delete(this.#expect++);
        this.#current = next;
        this.#pos = 0;
        continue;
      }
      if (failure && (failure.at === this.#expect || !this.#options.ordered))
        return this.#deliverFailure(failure);
      if (this.#inputDone && this.#outstanding === 0 && !failure) {
        this.#end();
        return { done: true };
      }
      return null;
    }
  }

  #deliverFailure(failure: Failure): Take<R> {
    this.#end();
    this.#failure = null;
    return { error: failure.error };
  }

  #drain(): void {
    while (this.#waiters.length > 0) {
      const item = this.#take();
      if (!item) return;
      const waiter = this.#waiters.shift()!;
      if ('error' in item) waiter.reject(item.error);
      else if ('value' in item) waiter.resolve({ done: false, value: item.value });
      else waiter.resolve({ done: true, value: undefined });
    }
  }

  /** Reads and submits chunks while fewer than `buffersize` are outstanding. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    const { chunksize, buffersize } = this.#options;
    try {
      while (!this.#ended && !this.#inputDone && !this.#failure && this.#outstanding < buffersize) {
        const index = this.#nextChunk;
        let items: unknown[];
        try {
          items = await this.#reader.read(chunksize);
        } catch (error) {
          this.#inputDone = true;
          this.#fail(error, this.#options.ordered ? index : Infinity);
          break;
        }
        if (this.#ended) break;
        if (items.length === 0) {
          this.#inputDone = true;
          break;
        }
        this.#nextChunk += 1;
        this.#outstanding += 1;
        this.#itemsRead += items.length;
        if (this.#reader.done) this.#inputDone = true;
        const task = chunkTask(
          this.host,
          this.#fn,
          this.#mode,
          items,
          0,
          items.length,
          index * chunksize,
          this.#options.timeout ?? this.host.taskTimeout,
          this,
        );
        this.submit(task);
      }
    } finally {
      this.#pumping = false;
    }
    this.#drain();
    this.#maybeRelease();
  }

  taskDone(task: Task, value: unknown): void {
    if (!this.tasks.delete(task) || this.#ended) return;
    const values = value as ArrayLike<unknown>;
    if (this.#options.ordered) this.#ready.set(task.start / this.#options.chunksize, values);
    else this.#arrived.push(values);
    this.#itemsDone += values.length;
    this.#maybeRelease();
    const onProgress = this.#options.onProgress;
    if (onProgress) {
      try {
        onProgress(
          this.#itemsDone,
          this.#knownTotal ?? (this.#inputDone ? this.#itemsRead : undefined),
        );
      } catch (error) {
        this.host.reportCallbackError(error, 'onProgress');
      }
    }
    this.#drain();
  }

  taskFailed(task: Task, error: unknown): void {
    if (!this.tasks.delete(task) || this.#ended) return;
    this.#fail(error, this.#options.ordered ? task.start / this.#options.chunksize : Infinity);
  }

  poolTerminated(error: unknown): void {
    if (this.#ended) return;
    this.#fail(error, -1);
  }

  /** Records the first failure (the earliest position, for imap); withdraws work past it. */
  #fail(error: unknown, at: number, kill = false): void {
    if (this.#ended) return;
    const previous = this.#failure;
    if (previous && (previous.at < 0 || (at >= 0 && previous.at <= at))) return;
    this.#failure = { error, at };
    for (const task of this.tasks) {
      if (!this.#options.ordered || at < 0 || task.start / this.#options.chunksize > at)
        this.withdraw(task, kill);
    }
    void this.#reader.close();
    this.#drain();
    this.#maybeRelease();
  }

  /** Ends the job: nothing more is read, submitted or delivered. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.withdrawAll(false);
    this.#ready.clear();
    this.#arrived.length = 0;
    this.#current = null;
    this.unwatchSignal();
    void this.#reader.close();
    this.#maybeRelease();
  }

  /** Tells the pool once this job will submit and run nothing more (its join() stops waiting). */
  #maybeRelease(): void {
    if (this.released || this.#pumping || this.tasks.size > 0) return;
    if (!this.#ended && !this.#failure && !this.#inputDone) return;
    this.release();
  }
}
