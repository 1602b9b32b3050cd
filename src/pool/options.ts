// The Pool's public option types and their validation at the public boundary.
import type { ResourceLimits } from 'node:worker_threads';
import type { LocalMethod, Transferable } from '../backends/types.ts';
import { transfer as markTransfer } from '../reduction/values.ts';
import { type Target, isFunctionRef } from '../reduction/functions.ts';
import {
  checkArray,
  checkInteger,
  checkKnown,
  checkTimeout,
  describe,
  invalidArg,
} from '../validate.ts';
import { checkChunksize } from './chunking.ts';

/** Options of `new Pool(...)`. */
export interface PoolOptions {
  /** Number of workers; defaults to `cpuCount()`; must be at least 1. */
  processes?: number | undefined;
  /** Runs once in every worker before its first task (replacement workers included); may be async. */
  initializer?: Target<(...args: any[]) => unknown> | undefined;
  /** Arguments of `initializer` (copied to every worker). */
  initargs?: unknown[] | undefined;
  /** A worker exits after this many tasks (chunks) and is replaced; undefined/null: never. */
  maxTasksPerChild?: number | null | undefined;
  /** Where workers run: a Context (`mp.getContext('process')`) or a start method name. */
  context?: { readonly method: LocalMethod } | LocalMethod | undefined;
  /** Default timeout (ms) of every task, counted from when it starts running. */
  taskTimeout?: number | undefined;
  /** Memory limits of each worker (thread: Node's resourceLimits; process: the matching V8 flags). */
  resourceLimits?: ResourceLimits | undefined;
}

/** Per-call options of every submitting method. */
export interface TaskOptions {
  /** Aborting withdraws queued work and stops (and replaces) the workers running it: AbortError. */
  signal?: AbortSignal | undefined;
  /** Milliseconds a task may run, from when it starts: TimeoutError, its worker is replaced. */
  timeout?: number | undefined;
  /** Buffers or typed arrays (and, for apply, MessagePorts) to move instead of copy (thread context). */
  transfer?: (Transferable | ArrayBufferView)[] | undefined;
}

/** Options of `applyAsync`. */
export interface ApplyAsyncOptions<R> extends TaskOptions {
  /** Called with the result before the AsyncResult becomes ready; a throw goes to the 'error' event. */
  callback?: ((result: R) => void) | undefined;
  /** Called with the error instead of `callback`. */
  errorCallback?: ((error: unknown) => void) | undefined;
}

/** Options of `map` and `starmap`. */
export interface MapOptions extends TaskOptions {
  /** Items per task; default `ceil(n / (4 × workers))` as in Python. */
  chunksize?: number | undefined;
  /** Called in the parent after each chunk with the items done so far and the total. */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/** Options of `mapAsync` and `starmapAsync`. */
export interface MapAsyncOptions<R> extends MapOptions {
  /** Called with the whole result list before the AsyncResult becomes ready. */
  callback?: ((result: R[]) => void) | undefined;
  /** Called with the error instead of `callback`. */
  errorCallback?: ((error: unknown) => void) | undefined;
}

/** Options of `imap` and `imapUnordered`. */
export interface ImapOptions extends TaskOptions {
  /** Items per task; default 1. */
  chunksize?: number | undefined;
  /** How many chunks may be read ahead of the consumer; default 2 × workers. */
  buffersize?: number | undefined;
  /** Called after each chunk; `total` is the input's length for an array, else undefined until the input is exhausted. */
  onProgress?: ((done: number, total: number | undefined) => void) | undefined;
}

/** The validated union of all per-call options. */
export interface CallOptions {
  signal: AbortSignal | undefined;
  timeout: number | undefined;
  transfer: (Transferable | ArrayBufferView)[] | undefined;
  chunksize: number | undefined;
  buffersize: number | undefined;
  onProgress: ((done: number, total: any) => void) | undefined;
  callback: ((value: any) => void) | undefined;
  errorCallback: ((error: unknown) => void) | undefined;
}

/** Python spellings a user of `multiprocessing` may bring, and what to write instead. */
const kPythonHints: Record<string, string> = {
  kwargs:
    'JavaScript functions take no keyword arguments: put an object in `args` and destructure it in the function',
  kwds: 'JavaScript functions take no keyword arguments: put an object in the argument list and destructure it in the function',
  group: "Python's `group` must be None: leave it out",
};

/**
 * As {@link checkKnown}, with the hints for Python spellings.
 * @example
 * checkKnownOptions({ kwargs: {} }, 'options', kProcessOptionKeys) // throws, with advice
 */
export function checkKnownOptions(
  options: unknown,
  name: string,
  known: readonly string[],
): asserts options is object | undefined {
  checkKnown(options, name, known, kPythonHints);
}

/** The options each submitting method accepts. */
export type CallKind = 'apply' | 'applyAsync' | 'map' | 'mapAsync' | 'imap';

const kTaskKeys = ['signal', 'timeout', 'transfer'];
const kCallbackKeys = ['callback', 'errorCallback'];
const kMapKeys = [...kTaskKeys, 'chunksize', 'onProgress'];
const kKnownCallKeys: Record<CallKind, readonly string[]> = {
  apply: kTaskKeys,
  applyAsync: [...kTaskKeys, ...kCallbackKeys],
  map: kMapKeys,
  mapAsync: [...kMapKeys, ...kCallbackKeys],
  imap: [...kMapKeys, 'buffersize'],
};

/** The keys `new Pool({...})` accepts. */
export const kPoolOptionKeys = [
  'processes',
  'initializer',
  'initargs',
  'maxTasksPerChild',
  'context',
  'taskTimeout',
  'resourceLimits',
] as const;

function checkCallable(value: unknown, name: string): void {
  if (value !== undefined && value !== null && typeof value !== 'function')
    invalidArg(name, 'a function', value);
}

/**
 * Validates per-call options (or, for map and imap, a bare chunksize number as Python's
 * positional argument); keys the method does not know are rejected. For chunked jobs,
 * `transfer` entries must be buffers; they are marked like mp.transfer().
 */
export function readCallOptions(
  value: unknown,
  name: string,
  kind: CallKind,
  taskTimeout: number | undefined,
): CallOptions {
  const chunked = kind !== 'apply' && kind !== 'applyAsync';
  const options = (
    typeof value === 'number' && chunked ? { chunksize: value } : (value ?? {})
  ) as Record<string, unknown>;
  checkKnownOptions(options, name, kKnownCallKeys[kind]);
  const { signal, timeout, transfer, chunksize, buffersize } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    invalidArg('signal', 'an AbortSignal', signal);
  checkTimeout(timeout, 'timeout');
  if (transfer !== undefined) {
    checkArray(transfer, 'transfer');
    if (chunked) {
      for (const item of transfer) {
        if (!(item instanceof ArrayBuffer) && !ArrayBuffer.isView(item)) {
          throw new TypeError(
            `Expected every \`transfer\` entry of a map to be an ArrayBuffer or a typed array, got ${describe(item)}`,
          );
        }
        markTransfer(item);
      }
    }
  }
  if (chunksize !== undefined && chunksize !== null) checkChunksize(chunksize);
  if (buffersize !== undefined && buffersize !== null) checkInteger(buffersize, 'buffersize', 1);
  checkCallable(options.onProgress, 'onProgress');
  checkCallable(options.callback, 'callback');
  checkCallable(options.errorCallback, 'errorCallback');
  return {
    signal: signal as AbortSignal | undefined,
    timeout: (timeout as number | undefined) ?? taskTimeout,
    transfer: transfer as CallOptions['transfer'],
    chunksize: (chunksize as number | null | undefined) ?? undefined,
    buffersize: (buffersize as number | null | undefined) ?? undefined,
    onProgress: (options.onProgress as CallOptions['onProgress']) ?? undefined,
    callback: (options.callback as CallOptions['callback']) ?? undefined,
    errorCallback: (options.errorCallback as CallOptions['errorCallback']) ?? undefined,
  };
}

/** Validates a task function argument (a function or an mp.ref()). */
export function checkTaskFunction(fn: unknown): void {
  if (typeof fn !== 'function' && !isFunctionRef(fn))
    invalidArg('fn', 'a function or mp.ref()', fn);
}
