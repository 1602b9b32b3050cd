// The pool's wire messages: a pool worker's job, its tasks, their answers.
import type { FnRef } from '../reduction/functions.ts';
import type { SerializedError } from '../reduction/errors.ts';
import type { LifecycleMessage, StopMessage } from '../runtime/protocol.ts';

/**
 * What a Pool worker runs: its initializer, then tasks as they arrive.
 * @example
 * const job: PoolJob = { kind: 'pool', initializer: null, initargs: [], walked: false }
 */
export interface PoolJob {
  readonly kind: 'pool';
  readonly initializer: FnRef | null;
  readonly initargs: unknown;
  readonly walked: boolean;
}

/**
 * How a pool task calls its function: once with an argument list, or once per item (spread for
 * starmap).
 * @example
 * const mode: TaskMode = 'starmap'
 */
export type TaskMode = 'apply' | 'map' | 'starmap';

/**
 * One task for a pool worker: a function (its wire form once, then its id) and what to call it on.
 * @example
 * handle.post({ t: 'task', id: 1, fn, mode: 'apply', args: [2], walked: false, packed: false, timed: false })
 */
export interface TaskMessage {
  readonly t: 'task';
  readonly id: number;
  readonly fn: FnRef | string;
  readonly mode: TaskMode;
  /** apply: one argument list; map: the items (a Float64Array when `packed`); starmap: argument lists. */
  readonly args: unknown;
  readonly walked: boolean;
  readonly packed: boolean;
  /** Whether the worker reports 'started' (the task has a timeout counted from its start). */
  readonly timed: boolean;
}

/**
 * Messages from the pool to one of its workers.
 * @example
 * const msg: ToPoolWorker = { t: 'stop' }
 */
export type ToPoolWorker = TaskMessage | StopMessage;

/**
 * A task's answers: it started (timed tasks), its value, or the error of one of its calls.
 * @example
 * channel.answer({ t: 'done', id: 1, value: 3, walked: false, packed: false } satisfies TaskAnswer)
 */
export type TaskAnswer =
  | { readonly t: 'started'; readonly id: number }
  | {
      readonly t: 'done';
      readonly id: number;
      readonly value: unknown;
      readonly walked: boolean;
      /** The results of a map task came back as a Float64Array. */
      readonly packed: boolean;
    }
  | {
      readonly t: 'failed';
      readonly id: number;
      readonly error: SerializedError;
      /** Position of the failing call within the task. */
      readonly index: number;
    };

/**
 * Messages from a pool worker to its pool (the runtime's holding reports go to the backend).
 * @example
 * const msg: FromPoolWorker = { t: 'ready' }
 */
export type FromPoolWorker = LifecycleMessage | TaskAnswer;
