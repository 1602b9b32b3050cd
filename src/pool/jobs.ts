// The pool's jobs: the bookkeeping they share, apply (one task), map/starmap (a whole input in chunks).
import { capabilitiesOf } from '../backends/index.ts';
import type { Transferable } from '../backends/types.ts';
import { AbortError } from '../errors.ts';
import type { FnRef } from '../reduction/functions.ts';
import { encode } from '../reduction/values.ts';
import { type AsyncResult, settleResult } from './async-result.ts';
import { collect, defaultChunksize, kPackThreshold, packNumbers } from './chunking.ts';
import type { TaskMode } from './protocol.ts';
import { type Job, type JobHost, Task, type TaskOwner } from './tasks.ts';

/** Delivers a job's outcome. */
export type Settle = (ok: boolean, value: unknown) => void;

/** A Promise and the Settle that settles it. */
export function settleToPromise<T>(): { promise: Promise<T>; settle: Settle } {
  let settle!: Settle;
  const promise = new Promise<T>((resolve, reject) => {
    settle = (ok, value) => (ok ? resolve(value as T) : reject(value));
  });
  return { promise, settle };
}

/** A Settle that runs the user's callback (guarded: a throwing callback never breaks the pool), then settles `result`. */
export function settleToResult<T>(
  result: AsyncResult<T>,
  host: JobHost,
  callback: ((value: T) => void) | undefined,
  errorCallback: ((error: unknown) => void) | undefined,
): Settle {
  return (ok, value) => {
    const cb = ok ? callback : errorCallback;
    if (cb) {
      try {
        (cb as (v: unknown) => void)(value);
      } catch (error) {
        host.reportCallbackError(error, ok ? 'callback' : 'errorCallback');
      }
    }
    settleResult(result, ok, value);
  };
}

/** Options every job understands. */
export interface JobOptions {
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
}

/** The abort error of a job whose signal fired. */
export function abortError(signal: AbortSignal): AbortError {
  return new AbortError('the pool task was aborted', { cause: signal.reason });
}

/**
 * Shared bookkeeping of every job: its unsettled tasks, its abort signal, and telling the pool
 * once that it has ended.
 * @example
 * class EchoJob extends BaseJob { ... this.submit(task) ... this.release() }
 */
export abstract class BaseJob implements TaskOwner, Job {
  protected readonly host: JobHost;
  /** Tasks submitted and not yet settled. */
  protected readonly tasks = new Set<Task>();
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #released = false;

  constructor(host: JobHost) {
    this.host = host;
    host.jobStarted(this);
  }

  /** Whether the pool has been told that this job runs nothing more. */
  protected get released(): boolean {
    return this.#released;
  }

  /**
   * Calls `abort` with the job's AbortError when `signal` fires, at once if it has fired (call
   * it once the subclass can handle that).
   */
  protected watchSignal(signal: AbortSignal, abort: (error: AbortError) => void): void {
    this.#signal = signal;
    this.#onAbort = () => abort(abortError(signal));
    if (signal.aborted) this.#onAbort();
    else signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Stops listening to the signal. */
  protected unwatchSignal(): void {
    if (this.#onAbort) this.#signal!.removeEventListener('abort', this.#onAbort);
  }

  protected submit(task: Task): void {
    this.tasks.add(task);
    this.host.submit(task);
  }

  /**
   * Withdraws `task`: dropped if queued; if running, stopped when `kill` (abort, timeout), else
   * left to finish unheard (cheaper than replacing its worker).
   */
  protected withdraw(task: Task, kill: boolean): void {
    this.host.cancel(task, kill);
    this.tasks.delete(task);
  }

  /** Withdraws every unsettled task (see {@link withdraw}). */
  protected withdrawAll(kill: boolean): void {
    for (const task of this.tasks) this.host.cancel(task, kill);
    this.tasks.clear();
  }

  /** Tells the pool, once, that this job will submit and run nothing more. */
  protected release(): void {
    if (this.#released) return;
    this.#released = true;
    this.host.jobEnded(this);
  }

  abstract taskDone(task: Task, value: unknown): void;
  abstract taskFailed(task: Task, error: unknown, index: number): void;
  abstract poolTerminated(error: unknown): void;
}

/**
 * A job with one outcome, settled exactly once (apply, map): a Promise or an AsyncResult.
 * @example
 * class OneJob extends EagerJob { taskDone(task, value) { this.tasks.delete(task); this.finish(true, value) } }
 */
export abstract class EagerJob extends BaseJob {
  #settled = false;
  readonly #settle: Settle;

  constructor(host: JobHost, settle: Settle, signal: AbortSignal | undefined) {
    super(host);
    this.#settle = settle;
    if (signal) this.watchSignal(signal, (error) => this.fail(error, true));
  }

  /** Whether the job has settled (nothing more may be submitted). */
  get settled(): boolean {
    return this.#settled;
  }

  /**
   * Settles once, withdrawing what is still queued; running tasks are stopped only when `kill`
   * (abort, timeout), else they finish unheard (cheaper than replacing their workers).
   */
  protected finish(ok: boolean, value: unknown, kill = false): void {
    if (this.#settled) return;
    this.#settled = true;
    this.unwatchSignal();
    this.withdrawAll(kill);
    this.release();
    this.#settle(ok, value);
  }

  /** Fails the job with `error` (stopping its running tasks when `kill`). */
  fail(error: unknown, kill = false): void {
    this.finish(false, error, kill);
  }

  poolTerminated(error: unknown): void {
    this.fail(error);
  }

  taskFailed(task: Task, error: unknown): void {
    this.tasks.delete(task);
    this.fail(error);
  }
}

/**
 * Builds the task for `items[from, to)`; `offset` is the position of its first item in the
 * job's input. Long all-number chunks of `map` travel packed in a Float64Array.
 */
export function chunkTask(
  host: JobHost,
  fn: FnRef,
  mode: TaskMode,
  items: readonly unknown[],
  from: number,
  to: number,
  offset: number,
  timeout: number | undefined,
  owner: TaskOwner,
): Task {
  const count = to - from;
  if (mode === 'map' && count >= kPackThreshold) {
    const packed = packNumbers(items, from, to);
    if (packed) {
      const transfer: Transferable[] = capabilitiesOf(host.method).canTransfer
        ? [packed.buffer as ArrayBuffer]
        : [];
      return new Task({
        fn,
        mode,
        args: packed,
        walked: false,
        packed: true,
        transfer,
        count,
        start: offset,
        timeout,
        owner,
        source: [],
      });
    }
  }
  const slice = from === 0 && to === items.length ? items : items.slice(from, to);
  const enc = encode(slice, capabilitiesOf(host.method));
  return new Task({
    fn,
    mode,
    args: enc.value,
    walked: enc.walked,
    transfer: enc.transfer,
    count,
    start: offset,
    timeout,
    owner,
    source: slice,
  });
}

/** `apply`/`applyAsync`: one call in one task. */
export class ApplyJob extends EagerJob {
  constructor(
    host: JobHost,
    fn: FnRef,
    args: readonly unknown[],
    options: JobOptions & {
      readonly transfer: readonly (Transferable | ArrayBufferView)[] | undefined;
    },
    settle: Settle,
  ) {
    super(host, settle, options.signal);
    if (this.settled) return;
    const enc = encode(args, capabilitiesOf(host.method));
    let transfer = enc.transfer;
    if (options.transfer?.length && capabilitiesOf(host.method).canTransfer) {
      const extra = options.transfer.map((t) =>
        ArrayBuffer.isView(t) ? (t.buffer as ArrayBuffer) : t,
      );
      transfer = [
        ...transfer,
        ...extra.filter((t, i) => !transfer.includes(t) && extra.indexOf(t) === i),
      ];
    }
    this.submit(
      new Task({
        fn,
        mode: 'apply',
        args: enc.value,
        walked: enc.walked,
        transfer,
        timeout: options.timeout,
        owner: this,
        source: args,
      }),
    );
  }

  taskDone(task: Task, value: unknown): void {
    this.tasks.delete(task);
    this.finish(true, value);
  }
}

/** Options of a map job. */
export interface MapJobOptions extends JobOptions {
  readonly chunksize: number | undefined;
  readonly onProgress: ((done: number, total: number) => void) | undefined;
}

/** `map`/`starmap` and their async forms: reads the whole input, then runs it in chunks; fails fast. */
export class MapJob extends EagerJob {
  readonly #fn: FnRef;
  readonly #mode: TaskMode;
  readonly #options: MapJobOptions;
  #results: unknown[] = [];
  #remaining = 0;
  #total = 0;

  constructor(
    host: JobHost,
    fn: FnRef,
    mode: TaskMode,
    input: Iterable<unknown> | AsyncIterable<unknown>,
    options: MapJobOptions,
    settle: Settle,
  ) {
    super(host, settle, options.signal);
    this.#fn = fn;
    this.#mode = mode;
    this.#options = options;
    if (!this.settled) void this.#start(input);
  }

  async #start(input: Iterable<unknown> | AsyncIterable<unknown>): Promise<void> {
    let items: readonly unknown[];
    try {
      items = await collect(input);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.settled) return;
    const n = items.length;
    if (n === 0) {
      this.finish(true, []);
      return;
    }
    const size = this.#options.chunksize ?? defaultChunksize(n, this.host.processes);
    this.#results = new Array(n);
    this.#remaining = this.#total = n;
    for (let from = 0; from < n && !this.settled; from += size) {
      const to = Math.min(n, from + size);
      const task = chunkTask(
        this.host,
        this.#fn,
        this.#mode,
        items,
        from,
        to,
        from,
        this.#options.timeout,
        this,
      );
      this.submit(task);
    }
  }

  taskDone(task: Task, value: unknown): void {
    this.tasks.delete(task);
    if (this.settled) return;
    const values = value as ArrayLike<unknown>;
    const results = this.#results;
    const start = task.start;
    for (let i = 0; i < values.length; i++) results[start + i] = values[i];
    this.#remaining -= task.count;
    const onProgress = this.#options.onProgress;
    if (onProgress) {
      try {
        onProgress(this.#total - this.#remaining, this.#total);
      } catch (error) {
        this.host.reportCallbackError(error, 'onProgress');
      }
    }
    if (this.#remaining === 0) this.finish(true, results);
  }
}
