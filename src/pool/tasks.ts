// The units of pool work: a Task (one message to one worker) and the interfaces jobs and the pool talk through.
import type { LocalMethod, Transferable } from '../backends/types.ts';
import { DataCloneError } from '../errors.ts';
import type { FnRef } from '../reduction/functions.ts';
import { cloneError } from '../reduction/values.ts';
import { describe } from '../validate.ts';
import type { TaskMode } from './protocol.ts';

/** Receives the outcome of the tasks it submitted (a job: apply, map, imap). */
export interface TaskOwner {
  /** The task's value arrived: a single value for 'apply', an array-like of results otherwise. */
  taskDone(task: Task, value: unknown): void;
  /** The task failed; `index` is the position of the failing call within the task. */
  taskFailed(task: Task, error: unknown, index: number): void;
}

/** A job the pool must settle when it is terminated. */
export interface Job {
  /** Rejects everything the job still owes with `error`; idempotent. */
  poolTerminated(error: unknown): void;
}

/** What a job needs from its pool. */
export interface JobHost {
  /** Where the workers run (decides how values are encoded). */
  readonly method: LocalMethod;
  /** The number of workers (for default chunk sizes and buffers). */
  readonly processes: number;
  /** The timeout applied to tasks that do not set one. */
  readonly taskTimeout: number | undefined;
  /** Queues a task; a pool that cannot run it fails it through its owner. */
  submit(task: Task): void;
  /** Withdraws a task: drops it if queued; if running, stops (and replaces) its worker when `kill`, else lets it finish unheard. */
  cancel(task: Task, kill: boolean): void;
  /** A job was created: the pool settles it on terminate() and join() waits for it. */
  jobStarted(job: Job): void;
  /** The job has settled everything it owes. */
  jobEnded(job: Job): void;
  /** A user callback threw: log it and emit 'error' (never breaks the pool). */
  reportCallbackError(error: unknown, what: string): void;
}

/**
 * What a task is made of.
 * @example
 * new Task({ fn, mode: 'apply', args: enc.value, walked: enc.walked, transfer: enc.transfer, timeout, owner, source: args })
 */
export interface TaskSpec {
  /** The function's wire form. */
  readonly fn: FnRef;
  readonly mode: TaskMode;
  /** The encoded arguments (see TaskMessage.args). */
  readonly args: unknown;
  /** Whether `args` holds handles to revive. */
  readonly walked: boolean;
  /** Whether `args` is a Float64Array of numbers (a long all-number map chunk). @default false */
  readonly packed?: boolean | undefined;
  /** What the message moves instead of copying. */
  readonly transfer: Transferable[];
  /** How many calls it holds. @default 1 */
  readonly count?: number | undefined;
  /** Position of its first item in the job's input. @default 0 */
  readonly start?: number | undefined;
  /** Milliseconds from its start, or undefined for none. */
  readonly timeout: number | undefined;
  readonly owner: TaskOwner;
  /** The arguments as given, to name the one that cannot be cloned. */
  readonly source: readonly unknown[];
}

let lastId = 0;

/** One message's worth of work for one worker. */
export class Task {
  /** Unique within this thread. */
  readonly id = ++lastId;
  /** 'queued' → 'running' → 'settled' (done, failed or withdrawn). */
  state: 'queued' | 'running' | 'settled' = 'queued';
  /** The worker running it, while running. */
  slot: object | null = null;
  /** The running timeout, if any. */
  timer: NodeJS.Timeout | null = null;
  /** The function's wire form. */
  readonly fn: FnRef;
  readonly mode: TaskMode;
  /** The encoded arguments (see TaskMessage.args). */
  readonly args: unknown;
  readonly walked: boolean;
  readonly packed: boolean;
  readonly transfer: Transferable[];
  /** How many calls it holds (1 for apply). */
  readonly count: number;
  /** Position of its first item in the job's input. */
  readonly start: number;
  /** Milliseconds from its start, or undefined for none. */
  readonly timeout: number | undefined;
  readonly owner: TaskOwner;
  /** The arguments as given, to name the one that cannot be cloned. */
  readonly source: readonly unknown[];

  constructor(options: TaskSpec) {
    this.fn = options.fn;
    this.mode = options.mode;
    this.args = options.args;
    this.walked = options.walked;
    this.packed = options.packed ?? false;
    this.transfer = options.transfer;
    this.count = options.count ?? 1;
    this.start = options.start ?? 0;
    this.timeout = options.timeout;
    this.owner = options.owner;
    this.source = options.source;
  }

  /** `square` as shown in messages. */
  get label(): string {
    return this.fn.name === 'anonymous' ? 'an anonymous function' : `\`${this.fn.name}\``;
  }
}

function firstUncloneable(values: readonly unknown[]): [number, unknown, Error] | null {
  for (let i = 0; i < values.length; i++) {
    try {
      structuredClone(values[i]);
    } catch (e) {
      return [i, values[i], e as Error];
    }
  }
  return null;
}

/** Turns a failed send into a DataCloneError naming the argument (apply) or item (map) at fault. */
export function taskCloneError(task: Task, error: unknown): DataCloneError {
  if (task.mode === 'apply') return cloneError(error, `the task ${task.label}`, task.source);
  const bad = firstUncloneable(task.source);
  const reason = error instanceof Error ? error.message : String(error);
  if (!bad) {
    return new DataCloneError(
      `Cannot send items ${task.start}–${task.start + task.count - 1} of ${task.mode}(${task.fn.name}) to the worker: ${reason}`,
      { cause: error },
    );
  }
  const [i, item, itemError] = bad;
  let where = `item ${task.start + i}`;
  if (task.mode === 'starmap' && Array.isArray(item)) {
    const arg = firstUncloneable(item);
    if (arg) where = `argument ${arg[0]} (${describe(arg[1])}) of item ${task.start + i}`;
  } else {
    where += ` (${describe(item)})`;
  }
  return new DataCloneError(
    `Cannot send ${where} of ${task.mode}(${task.fn.name}) to the worker: ${itemError.message}`,
    { cause: error },
  );
}
