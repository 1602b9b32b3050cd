// Pool: Python's multiprocessing.Pool over thread or process workers, where nothing is left hanging.
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import { serialize } from 'node:v8';
import type { LocalMethod, PoolJob } from '../backends/types.ts';
import { kRuntimeUrl } from '../backends/urls.ts';
import {
  InvalidStateError,
  PoolTerminatedError,
  TimeoutError,
  WorkerDiedError,
} from '../errors.ts';
import { cpuCount } from '../info.ts';
import { getLogger } from '../logging.ts';
import { checkMayStartWorkers, kContextMethod } from '../process.ts';
import { type Target, reduceFunction } from '../reduction/functions.ts';
import { cloneError, encode } from '../reduction/values.ts';
import { fixMethod, peekMethod } from '../runtime/start-method.ts';
import { type InheritedState, currentIdent, nextIdentity, state } from '../runtime/state.ts';
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
  type TaskOptions,
  checkTaskFunction,
  methodOfContext,
  readCallOptions,
} from './options.ts';
import { type Job, type JobHost, type Task, taskCloneError } from './tasks.ts';
import { type SlotHost, WorkerSlot } from './worker-slot.ts';

type PoolState = 'run' | 'close' | 'terminate';
/** How long terminate() lets a process worker handle SIGTERM before SIGKILL. */
const kKillGraceMs = 2000;

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

  readonly #method: LocalMethod;
  readonly #processes: number;
  readonly #maxTasks: number | null;
  readonly #taskTimeout: number | undefined;
  readonly #resourceLimits: PoolOptions['resourceLimits'];
  readonly #job: PoolJob;
  #state: PoolState = 'run';
  #broken: { error: unknown } | null = null;
  readonly #slots = new Set<WorkerSlot>();
  #queue: Task[] = [];
  #head = 0;
  /** Tasks queued or running; the workers keep Node alive only while it is above 0. */
  #active = 0;
  #refed = false;
  #unrefScheduled = false;
  readonly #jobs = new Set<Job>();
  readonly #exited: Promise<void>;
  #resolveExited!: () => void;
  readonly #host: JobHost & SlotHost;

  constructor(processesOrOptions?: number | PoolOptions) {
    super();
    const options: PoolOptions =
      typeof processesOrOptions === 'number' ||
      processesOrOptions === undefined ||
      processesOrOptions === null
        ? { processes: processesOrOptions ?? undefined }
        : processesOrOptions;
    checkOptions(options, 'options');
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
    this.#method = method;
    this.#processes = processes;
    this.#maxTasks = maxTasksPerChild ?? null;
    this.#taskTimeout = taskTimeout ?? undefined;
    this.#resourceLimits = resourceLimits;
    const init = initializer ? reduceFunction(initializer, 'the initializer') : null;
    // Every worker, replacements included, gets its own copy of initargs: nothing is transferred.
    const args = encode(initargs, method);
    this.#job = { kind: 'pool', initializer: init, initargs: args.value, walked: args.walked };
    try {
      if (method === 'process') serialize(this.#job);
      else structuredClone(this.#job);
    } catch (e) {
      throw cloneError(e, 'the initializer', initargs);
    }
    this.#exited = new Promise<void>((resolve) => (this.#resolveExited = resolve));
    this.#host = this.#makeHost();
    for (let i = 0; i < processes; i++) this.#spawn();
  }

  /** The number of workers the pool keeps. */
  get processes(): number {
    return this.#processes;
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
      this.#startApply(fn, args, options, settle);
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
    this.#startApply(fn, args, options, settle(options));
    return result;
  }

  #startApply(fn: unknown, args: unknown, options: unknown, settle: Settle): void {
    this.#checkRunning();
    checkTaskFunction(fn);
    if (args !== undefined) checkArray(args, 'args');
    const o = readCallOptions(options, 'options', false, this.#taskTimeout);
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
      this.#startMap(fn, iterable, chunksizeOrOptions, 'map', settle);
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
      this.#startMap(fn, iterable, chunksizeOrOptions, 'starmap', settle);
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * {@link starmap}, returning an {@link AsyncResult} at once.
   * @example
   * const r = pool.starmapAsync(Math.max, [[1, 5], [7, 2]]) // after await: [5, 7]
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
    this.#startMap(fn, iterable, options, mode, settle);
    return result;
  }

  #startMap(
    fn: unknown,
    iterable: unknown,
    options: unknown,
    mode: 'map' | 'starmap',
    settle: Settle,
  ): void {
    this.#checkRunning();
    checkTaskFunction(fn);
    checkIterable(iterable);
    const o = readCallOptions(options, 'chunksizeOrOptions', true, this.#taskTimeout);
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
    const o = readCallOptions(options, 'chunksizeOrOptions', true, this.#taskTimeout);
    const ref = reduceTaskFunction(fn);
    return new ImapIterator<R>(this.#host, ref, 'map', iterable as Iterable<unknown>, {
      chunksize: o.chunksize ?? 1,
      buffersize: o.buffersize ?? 2 * this.#processes,
      ordered,
      signal: o.signal,
      timeout: o.timeout,
      onProgress: o.onProgress,
    });
  }

  #checkRunning(): void {
    if (this.#state !== 'run')
      throw new InvalidStateError('Pool not running', 'ERR_POOL_NOT_RUNNING');
  }

  // --- lifecycle ----------------------------------------------------------------------------

  /** No more submissions; the workers exit once the pending work is done. Idempotent. */
  close(): void {
    if (this.#state !== 'run') return;
    this.#state = 'close';
    getLogger().debug('closing pool');
    this.#maybeStop();
    this.#checkExited();
  }

  /**
   * Stops the workers now and rejects every pending result (Promises, AsyncResults, imap
   * iterators) with {@link PoolTerminatedError}; resolves once every worker has exited.
   * @example
   * await pool.terminate()
   */
  async terminate(): Promise<void> {
    if (this.#state !== 'terminate') {
      this.#state = 'terminate';
      getLogger().debug('terminating pool');
      for (let i = this.#head; i < this.#queue.length; i++) this.#settleTask(this.#queue[i]!);
      this.#queue = [];
      this.#head = 0;
      for (const slot of this.#slots) {
        if (slot.current) this.#settleTask(slot.current);
        slot.terminate();
        if (this.#method === 'process') setTimeout(() => slot.kill(), kKillGraceMs).unref();
      }
      const error = new PoolTerminatedError();
      for (const job of [...this.#jobs]) job.poolTerminated(error);
      this.#jobs.clear();
      this.#checkExited();
    }
    return this.#exited;
  }

  /**
   * Waits for every worker to exit. Only after close() or terminate(): a running pool rejects
   * with InvalidStateError (`ERR_POOL_RUNNING`). imap iterators still being read are waited for.
   */
  async join(): Promise<void> {
    if (this.#state === 'run')
      throw new InvalidStateError('Pool is still running', 'ERR_POOL_RUNNING');
    return this.#exited;
  }

  /** `await using pool = new mp.Pool()`: terminates, as Python's `with` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }

  /** Python's repr: `<Pool state=RUN pool_size=4>`. */
  override toString(): string {
    return `<Pool state=${this.#state.toUpperCase()} pool_size=${this.#processes}>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  // --- workers ------------------------------------------------------------------------------

  #spawn(): void {
    const identity = nextIdentity();
    const name = `PoolWorker-${identity.join(':')}`;
    const s = state();
    const inherited: InheritedState = {
      name,
      identity,
      daemon: true,
      parent: { name: s.name, pid: process.pid, ident: currentIdent() },
      logLevel: getLogger().level,
      logToStderr: getLogger().toStderr,
      startMethod: peekMethod(),
      role: 'pool',
    };
    const slot = new WorkerSlot(
      {
        method: this.#method,
        boot: { runtimeUrl: kRuntimeUrl, inherited, job: this.#job },
        name,
        resourceLimits: this.#resourceLimits,
      },
      this.#host,
      this.#refed,
    );
    this.#slots.add(slot);
  }

  /** Starts workers until the pool has its number of live ones (unless it is winding down). */
  #refill(): void {
    if (this.#broken || this.#state === 'terminate') return;
    if (this.#state === 'close' && this.#jobs.size === 0 && this.#active === 0) return;
    let live = 0;
    for (const slot of this.#slots) if (slot.state !== 'stopping') live++;
    for (; live < this.#processes; live++) {
      getLogger().debug('starting a replacement worker');
      this.#spawn();
    }
  }

  /** After close(): stop idle workers (and those still starting) once no job is pending. */
  #maybeStop(): void {
    if (this.#state !== 'close' || this.#jobs.size > 0 || this.#active > 0) return;
    for (const slot of this.#slots) {
      if (slot.state === 'idle') slot.stop();
      else if (slot.state === 'starting') slot.terminate();
    }
  }

  #checkExited(): void {
    if (this.#state === 'run' || this.#slots.size > 0) return;
    if (this.#state === 'close' && (this.#jobs.size > 0 || this.#active > 0) && !this.#broken)
      return;
    this.#resolveExited();
  }

  #setRef(on: boolean): void {
    this.#refed = on;
    for (const slot of this.#slots) slot.setRef(on);
  }

  // --- tasks --------------------------------------------------------------------------------

  #submit(task: Task): void {
    if (this.#state === 'terminate') {
      task.state = 'settled';
      task.owner.taskFailed(task, new PoolTerminatedError(), 0);
      return;
    }
    if (this.#broken) {
      task.state = 'settled';
      task.owner.taskFailed(task, this.#broken.error, 0);
      return;
    }
    if (this.#active++ === 0 && !this.#refed) this.#setRef(true);
    this.#queue.push(task);
    this.#dispatch();
  }

  #nextQueued(): Task | null {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const task = queue[this.#head++]!;
      if (task.state === 'queued') {
        if (this.#head > 1024 && this.#head * 2 > queue.length) {
          this.#queue = queue.slice(this.#head);
          this.#head = 0;
        }
        return task;
      }
    }
    if (this.#head > 0) {
      this.#queue = [];
      this.#head = 0;
    }
    return null;
  }

  #dispatch(): void {
    if (this.#head >= this.#queue.length) return;
    for (const slot of this.#slots) {
      while (slot.state === 'idle') {
        const task = this.#nextQueued();
        if (!task) return;
        this.#runOn(slot, task);
      }
    }
  }

  #runOn(slot: WorkerSlot, task: Task): void {
    try {
      slot.run(task);
    } catch (error) {
      this.#settleTask(task);
      task.owner.taskFailed(task, taskCloneError(task, error), 0);
      return;
    }
    task.state = 'running';
    task.slot = slot;
  }

  /** Marks a task settled (once) and releases what it held. */
  #settleTask(task: Task): boolean {
    if (task.state === 'settled') return false;
    task.state = 'settled';
    task.slot = null;
    if (task.timer) clearTimeout(task.timer);
    if (--this.#active === 0 && !this.#unrefScheduled) {
      // Unref on the next turn: sequential apply() calls would otherwise toggle it every task.
      this.#unrefScheduled = true;
      setImmediate(() => {
        this.#unrefScheduled = false;
        if (this.#active === 0 && this.#refed) this.#setRef(false);
      });
    }
    return true;
  }

  #cancel(task: Task, kill: boolean): void {
    if (task.state === 'queued') this.#settleTask(task);
    else if (task.state === 'running' && kill) {
      const slot = task.slot as WorkerSlot;
      this.#settleTask(task);
      slot.kill();
      this.#refill();
    }
  }

  /** A worker finished a task: give it the next one first, then deliver. */
  #finished(slot: WorkerSlot, task: Task, ok: boolean, value: unknown, index: number): void {
    this.#settleTask(task);
    if (this.#maxTasks !== null && slot.tasksRun >= this.#maxTasks) {
      slot.stop();
      this.#refill();
    } else {
      this.#dispatch();
    }
    if (ok) task.owner.taskDone(task, value);
    else task.owner.taskFailed(task, value, index);
    this.#maybeStop();
    this.#checkExited();
  }

  #timedOut(task: Task): void {
    if (task.state !== 'running') return;
    const slot = task.slot as WorkerSlot;
    this.#settleTask(task);
    slot.kill();
    this.#refill();
    const error = new TimeoutError(
      `a task of ${task.label} ran longer than its timeout of ${task.timeout} ms; ${slot.name} was stopped and replaced`,
    );
    task.owner.taskFailed(task, error, 0);
  }

  /** The initializer failed (or a worker died while starting): fail queued and future tasks. */
  #break(error: unknown): void {
    if (this.#broken || this.#state === 'terminate') return;
    this.#broken = { error };
    getLogger().debug('pool broken: a worker could not start');
    const queued = this.#queue.slice(this.#head).filter((t) => t.state === 'queued');
    this.#queue = [];
    this.#head = 0;
    for (const task of queued) {
      this.#settleTask(task);
      task.owner.taskFailed(task, error, 0);
    }
    for (const slot of this.#slots) {
      if (slot.state === 'idle') slot.stop();
      else if (slot.state === 'starting') slot.terminate();
    }
    this.#checkExited();
  }

  #exitedSlot(slot: WorkerSlot, exitCode: number, signal: string | null, ready: boolean): void {
    this.#slots.delete(slot);
    const task = slot.current;
    if (task && this.#settleTask(task)) {
      const how = signal ? `signal ${signal}` : `exit code ${exitCode}`;
      const error = new WorkerDiedError(
        `${slot.name} died (${how}) while running a task of ${task.label}; the pool replaced it`,
        exitCode,
        signal,
      );
      task.owner.taskFailed(task, error, 0);
    }
    if (!ready && !slot.initFailed && !slot.stopRequested && this.#state !== 'terminate') {
      const how = signal ? `signal ${signal}` : `exit code ${exitCode}`;
      this.#break(
        new WorkerDiedError(
          `${slot.name} died (${how}) before it was ready (while loading or running the initializer); the pool will not respawn it`,
          exitCode,
          signal,
        ),
      );
    }
    this.#refill();
    this.#maybeStop();
    this.#checkExited();
  }

  #reportCallbackError(error: unknown, what: string): void {
    const text = error instanceof Error ? (error.stack ?? String(error)) : String(error);
    getLogger().error(`a pool ${what} threw: ${text}`);
    try {
      if (this.listenerCount('error') > 0) this.emit('error', error);
      else process.emitWarning(`a pool ${what} threw: ${text}`, 'PoolCallbackWarning');
    } catch (e) {
      getLogger().error(`a pool 'error' listener threw: ${String(e)}`);
    }
  }

  #makeHost(): JobHost & SlotHost {
    const readied = new WeakSet<WorkerSlot>();
    return {
      method: this.#method,
      processes: this.#processes,
      taskTimeout: this.#taskTimeout,
      submit: (task) => this.#submit(task),
      cancel: (task, kill) => this.#cancel(task, kill),
      jobStarted: (job) => void this.#jobs.add(job),
      jobEnded: (job) => {
        if (!this.#jobs.delete(job)) return;
        this.#maybeStop();
        this.#refill();
        this.#checkExited();
      },
      reportCallbackError: (error, what) => this.#reportCallbackError(error, what),
      slotReady: (slot) => {
        readied.add(slot);
        if (this.#broken || (this.#state === 'close' && this.#jobs.size === 0 && !this.#active))
          slot.stop();
        else this.#dispatch();
      },
      slotInitFailed: (_slot, error) => this.#break(error),
      slotStarted: (_slot, task) => {
        if (task.timeout === undefined || task.timeout === Infinity) return;
        task.timer = setTimeout(() => this.#timedOut(task), Math.max(0, task.timeout));
      },
      slotDone: (slot, task, value) => this.#finished(slot, task, true, value, 0),
      slotFailed: (slot, task, error, index) => this.#finished(slot, task, false, error, index),
      slotExited: (slot, code, signal) => this.#exitedSlot(slot, code, signal, readied.has(slot)),
    };
  }
}
