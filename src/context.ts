// Contexts: one per start method, each exposing the whole API bound to it; the only place that branches on the method.
import { InvalidStateError } from './errors.ts';
import { activeChildren, cpuCount, currentProcess, isMainProcess, parentProcess } from './info.ts';
import { getLogger, logToStderr } from './logging.ts';
import { Process as BaseProcess, kContextMethod } from './process.ts';
import { Pool as BasePool } from './pool/pool.ts';
import { ref } from './reduction/functions.ts';
import { transfer } from './reduction/values.ts';
import { JoinableQueue, Queue, SimpleQueue } from './queues.ts';
import { Pipe } from './connection.ts';
import { wait } from './wait.ts';
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  RLock,
  Semaphore,
} from './synchronize.ts';
import { RawValue, Value } from './shared-types.ts';
import { Array as SharedArray, RawArray } from './shared-array.ts';
import { SharedMemory } from './shared-memory.ts';
import { ShareableList } from './shareable-list.ts';
import { Manager as startManager, type SyncManager } from './managers/sync-manager.ts';
import type { ManagerOptions } from './managers/base-manager.ts';
import { assignMethod, fixMethod, peekMethod } from './runtime/start-method.ts';
import { backendEntry, checkMethod, registeredMethods } from './backends/index.ts';
import { bindClass, bindFunction, setDefaultProvider } from './shared/binding.ts';
import type { SharedMemoryMode } from './shared/provider.ts';
import type { LocalMethod } from './backends/types.ts';
import { checkKnown, checkOneOf, checkOptions } from './validate.ts';

/** A way of starting workers: `'thread'` (worker_threads, the default) or `'process'` (child processes). */
export type StartMethod = LocalMethod;

const kMethods = ['thread', 'process', 'cluster'] as const;

/**
 * The whole API bound to one start method: `mp.getContext('process').Process` starts child
 * processes whatever the default is.
 * @example
 * const ctx = mp.getContext('process')
 * const p = new ctx.Process({ target: work })
 */
export class Context {
  /** The start method of this context. */
  readonly method: StartMethod;
  /** `Process` bound to this context. */
  readonly Process: typeof BaseProcess;
  /** `Pool` bound to this context. */
  readonly Pool: typeof BasePool;

  /**
   * How this context's primitives reach their memory: `'local'` (threads share this process's
   * SharedArrayBuffers) or `'broker'` (child processes reach them through a broker thread of the
   * process that owns them).
   */
  readonly sharedMemory: SharedMemoryMode;

  constructor(method: StartMethod) {
    this.method = method;
    this.Process = class Process<A extends unknown[] = unknown[]> extends BaseProcess<A> {
      static override readonly [kContextMethod]: LocalMethod | undefined = method;
    };
    this.Pool = class Pool extends BasePool {
      static override readonly [kContextMethod]: LocalMethod | undefined = method;
    };
    // Every primitive made through this context gets its core from the context's provider.
    const cores = backendEntry(method).cores();
    this.sharedMemory = cores.mode;
    this.Queue = bindClass(Queue, cores);
    this.JoinableQueue = bindClass(JoinableQueue, cores);
    this.SimpleQueue = bindClass(SimpleQueue, cores);
    this.Pipe = bindFunction(Pipe, cores);
    this.Lock = bindClass(Lock, cores);
    this.RLock = bindClass(RLock, cores);
    this.Semaphore = bindClass(Semaphore, cores);
    this.BoundedSemaphore = bindClass(BoundedSemaphore, cores);
    this.Condition = bindClass(Condition, cores);
    this.Event = bindClass(Event, cores);
    this.Barrier = bindClass(Barrier, cores);
    this.Value = bindFunction(Value, cores);
    this.RawValue = bindFunction(RawValue, cores);
    this.Array = bindFunction(SharedArray, cores);
    this.RawArray = bindFunction(RawArray, cores);
    this.SharedMemory = bindClass(SharedMemory, cores);
    this.ShareableList = bindClass(ShareableList, cores);
  }

  /** See {@link cpuCount}. */
  readonly cpuCount = cpuCount;
  /** See {@link currentProcess}. */
  readonly currentProcess = currentProcess;
  /** See {@link parentProcess}. */
  readonly parentProcess = parentProcess;
  /** See {@link activeChildren}. */
  readonly activeChildren = activeChildren;
  /** See {@link isMainProcess}. */
  readonly isMainProcess = isMainProcess;
  /** See {@link getLogger}. */
  readonly getLogger = getLogger;
  /** See {@link logToStderr}. */
  readonly logToStderr = logToStderr;
  /** See {@link ref}. */
  readonly ref = ref;
  /** See {@link transfer}. */
  readonly transfer = transfer;
  /** See {@link Queue}. */
  readonly Queue: typeof Queue;
  /** See {@link JoinableQueue}. */
  readonly JoinableQueue: typeof JoinableQueue;
  /** See {@link SimpleQueue}. */
  readonly SimpleQueue: typeof SimpleQueue;
  /** See {@link Pipe}. */
  readonly Pipe: typeof Pipe;
  /** See {@link wait}. */
  readonly wait = wait;
  /** See {@link getAllStartMethods}. */
  readonly getAllStartMethods = getAllStartMethods;
  /** See {@link Lock}. */
  readonly Lock: typeof Lock;
  /** See {@link RLock}. */
  readonly RLock: typeof RLock;
  /** See {@link Semaphore}. */
  readonly Semaphore: typeof Semaphore;
  /** See {@link BoundedSemaphore}. */
  readonly BoundedSemaphore: typeof BoundedSemaphore;
  /** See {@link Condition}. */
  readonly Condition: typeof Condition;
  /** See {@link Event}. */
  readonly Event: typeof Event;
  /** See {@link Barrier}. */
  readonly Barrier: typeof Barrier;
  /** See {@link Value}. */
  readonly Value: typeof Value;
  /** See {@link RawValue}. */
  readonly RawValue: typeof RawValue;
  /** See {@link SharedArray}. */
  readonly Array: typeof SharedArray;
  /** See {@link RawArray}. */
  readonly RawArray: typeof RawArray;
  /** See {@link SharedMemory}. */
  readonly SharedMemory: typeof SharedMemory;
  /** See {@link ShareableList}. */
  readonly ShareableList: typeof ShareableList;
  /** Starts a SyncManager whose server runs in this context (see {@link startManager}). */
  readonly Manager = (options?: Omit<ManagerOptions, 'context'>): Promise<SyncManager> =>
    startManager({ ...options, context: this.method });

  /** With no method, this context; otherwise the context of `method`. */
  getContext(method?: StartMethod | 'cluster'): Context {
    return method === undefined ? this : getContext(method);
  }
  /** This context's method. */
  getStartMethod(_options?: { allowNone?: boolean }): StartMethod {
    return this.method;
  }
  /** A concrete context's method cannot change: always throws, as Python's does. */
  setStartMethod(_method: StartMethod | null, _options?: { force?: boolean }): never {
    throw new InvalidStateError(
      'cannot set start method of concrete context',
      'ERR_CONCRETE_CONTEXT',
    );
  }
}

const contexts = new Map<StartMethod, Context>();

/**
 * The context of `method`, or the default context (fixing the default) when omitted.
 * `'cluster'` is part of the design but not available in this version.
 * @example
 * const { Pool } = mp.getContext('process')
 */
export function getContext(
  method?: StartMethod | 'cluster',
  options?: Record<string, unknown>,
): Context {
  checkOptions(options, 'options');
  const chosen = method ?? fixMethod();
  checkOneOf(chosen, 'method', kMethods);
  if (chosen === 'cluster') {
    throw Object.assign(
      new Error(
        "The 'cluster' context is not available in this version of multiprocessing-ts; use 'thread' or 'process'.",
      ),
      {
        code: 'ERR_UNSUPPORTED_CONTEXT',
      },
    );
  }
  let ctx = contexts.get(chosen);
  if (!ctx) contexts.set(chosen, (ctx = new Context(chosen)));
  return ctx;
}

/**
 * Sets the default start method. A second call throws unless `{ force: true }`; `null` with
 * force resets it, as in Python.
 * @example
 * if (mp.isMainProcess()) mp.setStartMethod('process')
 */
export function setStartMethod(
  method: StartMethod | null,
  options: { force?: boolean } = {},
): void {
  checkKnown(options, 'options', ['force']);
  if (method !== null) checkMethod(method, 'method');
  if (peekMethod() !== null && !options.force) {
    throw new InvalidStateError('context has already been set', 'ERR_CONTEXT_ALREADY_SET');
  }
  assignMethod(method);
}

/**
 * The default start method; fixes it to `'thread'` if unset, unless `{ allowNone: true }`.
 * @example
 * mp.getStartMethod() // 'thread'
 */
export function getStartMethod(options: { allowNone?: boolean } = {}): StartMethod | null {
  checkKnown(options, 'options', ['allowNone']);
  if (options.allowNone) return peekMethod();
  return fixMethod();
}

/**
 * The start methods available here, the default first.
 * @example
 * mp.getAllStartMethods() // ['thread', 'process']
 */
export function getAllStartMethods(): StartMethod[] {
  const all = registeredMethods();
  const first = peekMethod() ?? all[0]!;
  return [first, ...all.filter((m) => m !== first)];
}

// Module-level primitives (`new mp.Lock()`) are the default context's: its provider, read at each
// construction without fixing the default method (setStartMethod may still choose it).
setDefaultProvider(() => backendEntry(peekMethod() ?? registeredMethods()[0]!).cores());
