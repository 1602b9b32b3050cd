// Pool: Python's multiprocessing.Pool over thread or process workers, where nothing is left hanging.
import { capabilitiesOf, methodOfContext } from '../backends/index.ts';
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import { serialize } from 'node:v8';
import type { LocalMethod } from '../backends/types.ts';
import { InvalidStateError } from '../errors.ts';
import { cpuCount } from '../info.ts';
import { checkMayStartWorkers, kContextMethod } from '../process.ts';
import { type Target, reduceFunction } from '../reduction/functions.ts';
import { cloneError, encode } from '../reduction/values.ts';
import { fixMethod } from '../runtime/start-method.ts';
import { checkArray, checkInteger, checkOptions, checkTimeout } from '../validate.ts';
import { AsyncResult } from './async-result.ts';
import { checkIterable, reduceTaskFunction } from './chunking.ts';
import { ImapIterator } from './imap.ts';
import { ApplyJob, MapJob, type Settle, settleToPromise, settleToResult } from './jobs.ts';
import {
  type ApplyAsyncOptions,
  type ImapOptions,
  type MapAsyncOptions,
  type MapOptions,
  type PoolOptions,
  type CallKind,
  type TaskOptions,
  checkKnownOptions,
  checkTaskFunction,
  kPoolOptionKeys,
  readCallOptions,
} from './options.ts';
import type { PoolJob } from './protocol.ts';
import { Scheduler } from './scheduler.ts';

/**
 * A pool of worker threads or processes running functions on your data, as Python's
 * `multiprocessing.Pool`, without its hangs: a worker that dies fails its task with
 * WorkerDiedError and is replaced; terminate() rejects whatever is pending. Workers are named
 * `PoolWorker-N` and are daemonic. Idle workers never keep Node alive.
 *
 * Pool is an EventEmitter for one event only: `'error'`, emitted with the error when a user
 * callback (`callback`, `errorCallback`, `onProgress`) throws; the pool carries on. Without a
 * listener such an error becomes a process warning. It is also logged (`mp.getLogger()`).
 * @example
 * const pool = new mp.Pool(4)
 * try {
 *   console.log(await pool.map((x: number) => x * x, [1, 2, 3])) // [1, 4, 9]
 * } finally {
 *   pool.close()
 *   await pool.join()
 * }
 */
export class Pool extends EventEmitter implements AsyncDisposable {
  /** Set on context-bound subclasses (`ctx.Pool`). */
  static readonly [kContextMethod]: LocalMethod | undefined = undefined;

  readonly #host: Scheduler;

  constructor(processesOrOptions?: number | PoolOptions) {
    super();
    const options: PoolOptions =
      typeof processesOrOptions === 'number' ||
      processesOrOptions === undefined ||
      processesOrOptions === null
        ? { processes: processesOrOptions ?? undefined }
        : processesOrOptions;
    checkKnownOptions(options, 'options', kPoolOptionKeys);
    const { initializer, initargs = [], maxTasksPerChild, taskTimeout, resourceLimits } = options;
    const processes = options.processes ?? cpuCount();
    checkInteger(processes, 'processes', 1);
    if (initializer !== undefined && initializer !== null) checkTaskFunction(initializer);
    checkArray(initargs, 'initargs');
    if (maxTasksPerChild !== undefined && maxTasksPerChild !== null)
      checkInteger(maxTasksPerChild, 'maxTasksPerChild', 1);
    checkTimeout(taskTimeout, 'taskTimeout');
    checkOptions(resourceLimits, 'resourceLimits');
    const method =
      methodOfContext(options.context) ??
      (this.constructor as typeof Pool)[kContextMethod] ??
      fixMethod();
    checkMayStartWorkers('pool');
    const init = initializer ? reduceFunction(initializer, 'the initializer') : null;
    // Every worker, replacements included, gets its own copy of initargs: nothing is transferred.
    const args = encode(initargs, capabilitiesOf(method));
    const job: PoolJob = {
      kind: 'pool',
      initializer: init,
      initargs: args.value,
      walked: args.walked,
    };
    try {
      // Thread workers get it as workerData (structured clone); processes over IPC (v8 serialization).
      if (capabilitiesOf(method).sharesMemory) structuredClone(job);
      else serialize(job);
    } catch (e) {
      throw cloneError(e, 'the initializer', initargs);
    }
    this.#host = new Scheduler({
      method,
      processes,
      maxTasks: maxTasksPerChild ?? null,
      taskTimeout: taskTimeout ?? undefined,
      resourceLimits,
      job,
      onCallbackError: (error, what, text) => {
        if (this.listenerCount('error') > 0) this.emit('error', error);
        else process.emitWarning(`a pool ${what} threw: ${text}`, 'PoolCallbackWarning');
      },
    });
  }

  /** The number of workers the pool keeps. */
  get processes(): number {
    return this.#host.processes;
  }

  // --- submitting ---------------------------------------------------------------------------

  /**
   * Runs `fn(...args)` in a worker and resolves to its result (awaited if `fn` is async).
   * @example
   * const n = await pool.apply((a: number, b: number) => a + b, [1, 2]) // 3
   */
  apply<A extends unknown[], R>(
    fn: Target<(...args: A) => R>,
    args?: A,
    options?: TaskOptions,
  ): Promise<Awaited<R>> {
    try {
      const { promise, settle } = settleToPromise<Awaited<R>>();
      this.#startApply(fn, args, options, 'apply', settle);
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Submits `fn(...args)` and returns its {@link AsyncResult} at once; `callback` or
   * `errorCallback` runs in this thread when it settles. Throws if the pool is not running.
   * @example
   * const r = pool.applyAsync(square, [3], { callback: (v) => console.log(v) })
   * await r.get(1000) // 9
   */
  applyAsync<A extends unknown[], R>(
    fn: Target<(...args: A) => R>,
    args?: A,
    options?: ApplyAsyncOptions<Awaited<R>>,
  ): AsyncResult<Awaited<R>> {
    const result = new AsyncResult<Awaited<R>>();
    const settle = (o: ApplyAsyncOptions<Awaited<R>> | undefined) =>
      settleToResult(result, this.#host, o?.callback, o?.errorCallback);
    this.#startApply(fn, args, options, 'applyAsync', settle(options));
    return result;
  }

  #startApply(fn: unknown, args: unknown, options: unknown, kind: CallKind, settle: Settle): void {
    this.#checkRunning();
    checkTaskFunction(fn);
    if (args !== undefined) checkArray(args, 'args');
    const o = readCallOptions(options, 'options', kind, this.#host.taskTimeout);
    const ref = reduceTaskFunction(fn);
    new ApplyJob(this.#host, ref, (args ?? []) as unknown[], o, settle);
  }

  /**
   * Calls `fn(item)` for every item, in chunks (default `ceil(n / (4 × workers))`), and
   * resolves to the results in input order. Rejects on the first error and withdraws the
   * chunks not yet started. The input may be any iterable or async iterable (read whole first).
   * @example
   * await pool.map((x: number) => x * x, [1, 2, 3])         // [1, 4, 9]
   * await pool.map(square, range(1000), { chunksize: 100 })
   */
  map<T, R>(
    fn: Target<(item: T) => R>,
    iterable: Iterable<T> | AsyncIterable<T>,
    chunksizeOrOptions?: number | MapOptions,
  ): Promise<Awaited<R>[]> {
    try {
      const { promise, settle } = settleToPromise<Awaited<R>[]>();
      this.#startMap(fn, iterable, chunksizeOrOptions, 'map', 'map', settle);
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * {@link map}, returning an {@link AsyncResult} at once (callbacks as in applyAsync).
   * @example
   * const r = pool.mapAsync(square, [1, 2, 3]); console.log(await r) // [1, 4, 9]
   */
  mapAsync<T, R>(
    fn: Target<(item: T) => R>,
    iterable: Iterable<T> | AsyncIterable<T>,
    chunksizeOrOptions?: number | MapAsyncOptions<Awaited<R>>,
  ): AsyncResult<Awaited<R>[]> {
    return this.#mapResult(fn, iterable, chunksizeOrOptions, 'map');
  }

  /**
   * Calls `fn(...args)` for every argument tuple; otherwise as {@link map}.
   * @example
   * await pool.starmap((a: number, b: number) => a * b, [[1, 2], [3, 4]]) // [2, 12]
   */
  starmap<A extends unknown[], R>(
    fn: Target<(...args: A) => R>,
    iterable: Iterable<A> | AsyncIterable<A>,
    chunksizeOrOptions?: number | MapOptions,
  ): Promise<Awaited<R>[]> {
    try {
      const { promise, settle } = settleToPromise<Awaited<R>[]>();
      this.#startMap(fn, iterable, chunksizeOrOptions, 'starmap', 'map', settle);
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * {@link starmap}, returning an {@link AsyncResult} at once.
   * @example
   * const r = pool.starmapAsync((a: number, b: number) => Math.max(a, b), [[1, 5], [7, 2]])
   * console.log(await r) // [5, 7]
   */
  starmapAsync<A extends unknown[], R>(
    fn: Target<(...args: A) => R>,
    iterable: Iterable<A> | AsyncIterable<A>,
    chunksizeOrOptions?: number | MapAsyncOptions<Awaited<R>>,
  ): AsyncResult<Awaited<R>[]> {
    return this.#mapResult(fn, iterable, chunksizeOrOptions, 'starmap');
  }

  #mapResult<R>(
    fn: unknown,
    iterable: unknown,
    options: unknown,
    mode: 'map' | 'starmap',
  ): AsyncResult<R> {
    const result = new AsyncResult<R>();
    const o =
      typeof options === 'object' && options !== null ? (options as MapAsyncOptions<R>) : {};
    const settle = settleToResult(result, this.#host, o.callback as never, o.errorCallback);
    this.#startMap(fn, iterable, options, mode, 'mapAsync', settle);
    return result;
  }

  #startMap(
    fn: unknown,
    iterable: unknown,
    options: unknown,
    mode: 'map' | 'starmap',
    kind: CallKind,
    settle: Settle,
  ): void {
    this.#checkRunning();
    checkTaskFunction(fn);
    checkIterable(iterable);
    const o = readCallOptions(options, 'chunksizeOrOptions', kind, this.#host.taskTimeout);
    const ref = reduceTaskFunction(fn);
    new MapJob(this.#host, ref, mode, iterable as Iterable<unknown>, o, settle);
  }

  /**
   * A lazy, ordered async iterator of `fn(item)`: the input (even an infinite generator) is read
   * at most `buffersize` chunks ahead of the consumer. Default chunksize 1.
   * @example
   * for await (const y of pool.imap(square, naturals(), { buffersize: 4 })) if (y > 100) break
   */
  imap<T, R>(
    fn: Target<(item: T) => R>,
    iterable: Iterable<T> | AsyncIterable<T>,
    chunksizeOrOptions?: number | ImapOptions,
  ): AsyncIterableIterator<Awaited<R>> {
    return this.#startImap(fn, iterable, chunksizeOrOptions, true);
  }

  /**
   * As {@link imap}, yielding results as they finish rather than in input order.
   * @example
   * for await (const y of pool.imapUnordered(slowSquare, [3, 1, 2])) console.log(y)
   */
  imapUnordered<T, R>(
    fn: Target<(item: T) => R>,
    iterable: Iterable<T> | AsyncIterable<T>,
    chunksizeOrOptions?: number | ImapOptions,
  ): AsyncIterableIterator<Awaited<R>> {
    return this.#startImap(fn, iterable, chunksizeOrOptions, false);
  }

  #startImap<R>(
    fn: unknown,
    iterable: unknown,
    options: unknown,
    ordered: boolean,
  ): ImapIterator<R> {
    this.#checkRunning();
    checkTaskFunction(fn);
    checkIterable(iterable);
    const o = readCallOptions(options, 'chunksizeOrOptions', 'imap', this.#host.taskTimeout);
    const ref = reduceTaskFunction(fn);
    return new ImapIterator<R>(this.#host, ref, 'map', iterable as Iterable<unknown>, {
      chunksize: o.chunksize ?? 1,
      buffersize: o.buffersize ?? 2 * this.#host.processes,
      ordered,
      signal: o.signal,
      timeout: o.timeout,
      onProgress: o.onProgress,
    });
  }

  #checkRunning(): void {
    if (this.#host.state !== 'run')
      throw new InvalidStateError('Pool not running', 'ERR_POOL_NOT_RUNNING');
  }

  // --- lifecycle ----------------------------------------------------------------------------

  /** No more submissions; the workers exit once the pending work is done. Idempotent. */
  close(): void {
    this.#host.close();
  }

  /**
   * Stops the workers now and rejects every pending result (Promises, AsyncResults, imap
   * iterators) with {@link PoolTerminatedError}; resolves once every worker has exited.
   * @example
   * await pool.terminate()
   */
  async terminate(): Promise<void> {
    this.#host.terminate();
    return this.#host.exited;
  }

  /**
   * Waits for every worker to exit. Only after close() or terminate(): a running pool rejects
   * with InvalidStateError (`ERR_POOL_RUNNING`). imap iterators still being read are waited for.
   */
  async join(): Promise<void> {
    if (this.#host.state === 'run')
      throw new InvalidStateError('Pool is still running', 'ERR_POOL_RUNNING');
    return this.#host.exited;
  }

  /** `await using pool = new mp.Pool()`: terminates, as Python's `with` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }

  /** Python's repr: `<Pool state=RUN pool_size=4>`. */
  override toString(): string {
    return `<Pool state=${this.#host.state.toUpperCase()} pool_size=${this.#host.processes}>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
