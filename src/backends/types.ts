// The interface every backend implements, and the internal messages that cross it.
import type { MessagePort, ResourceLimits, TransferListItem } from 'node:worker_threads';
import type { FnRef } from '../reduction/functions.ts';
import type { SerializedError } from '../reduction/errors.ts';
import type { InheritedState } from '../runtime/state.ts';
import type { ManagerJob } from '../managers/server.ts';

/** Something a message may move instead of copy (an ArrayBuffer, a MessagePort…). */
export type Transferable = TransferListItem;

/** Where workers run: a thread of this process, or a child process. */
export type LocalMethod = 'thread' | 'process';

/** What a Process worker runs: a target function, or `run()` of a subclass instance. */
export interface ProcessJob {
  readonly kind: 'process';
  readonly target: FnRef | null;
  readonly args: unknown;
  readonly walked: boolean;
  /** For a Process subclass: the exported class and the instance's own fields. */
  readonly subclass: {
    readonly cls: FnRef;
    readonly fields: unknown;
    readonly walked: boolean;
  } | null;
}

/** What a Pool worker runs: its initializer, then tasks as they arrive. */
export interface PoolJob {
  readonly kind: 'pool';
  readonly initializer: FnRef | null;
  readonly initargs: unknown;
  readonly walked: boolean;
  /** Thread workers: an Int32 the parent bumps (and notifies) after each message it posts. */
  readonly doorbell?: SharedArrayBuffer | null;
  /**
   * Thread workers: the port their task answers travel on, which the parent can read without
   * waiting for its event loop to wake (see pool/answer-poller.ts).
   */
  readonly answers?: MessagePort | null;
}

/** Everything a worker needs to start; a thread gets it as workerData, a child process over IPC. */
export interface BootRecord {
  readonly runtimeUrl: string;
  readonly inherited: InheritedState;
  readonly job: ProcessJob | PoolJob | ManagerJob;
}

/** How a pool task calls its function: once with an argument list, or once per item (spread for starmap). */
export type TaskMode = 'apply' | 'map' | 'starmap';

/** One task for a pool worker: a function (its wire form once, then its id) and what to call it on. */
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

/** Messages from the parent to a worker. */
export type ToWorker =
  { readonly t: 'boot'; readonly boot: BootRecord } | TaskMessage | { readonly t: 'stop' };

/** Messages from a worker to its parent. */
export type FromWorker =
  | { readonly t: 'hello' }
  | { readonly t: 'ready' }
  | { readonly t: 'init-failed'; readonly error: SerializedError }
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
    }
  /** A thread worker now holds a shared object (see runtime/holdings.ts); handled by the backend. */
  | { readonly t: 'hold'; readonly id: number; readonly kind: string; readonly state: unknown }
  | { readonly t: 'unhold'; readonly id: number };

/** Options that shape a worker's runtime. */
export interface SpawnOptions {
  readonly boot: BootRecord;
  readonly transfer: Transferable[];
  readonly name: string;
  readonly env?: Record<string, string | undefined> | undefined;
  readonly execArgv?: readonly string[] | undefined;
  readonly resourceLimits?: ResourceLimits | undefined;
}

/** Callbacks a backend reports through. */
export interface WorkerEvents {
  message(msg: FromWorker): void;
  /** `exitCode` in Python's convention (−signal after a signal); called once. */
  exit(exitCode: number, signal: string | null): void;
}

/** A started worker, whatever it runs on. */
export interface WorkerHandle {
  readonly pid: number;
  readonly ident: number;
  post(msg: ToWorker, transfer?: Transferable[]): void;
  /** Asks the worker to stop now: SIGTERM for a process, `worker.terminate()` for a thread (−15). */
  terminate(): void;
  /** Stops the worker at once: SIGKILL for a process, `worker.terminate()` for a thread (−9). */
  kill(): void;
  ref(): void;
  unref(): void;
}

/** A way of running workers. */
export interface Backend {
  readonly method: LocalMethod;
  spawn(options: SpawnOptions, events: WorkerEvents): WorkerHandle;
}

/** The worker's side of the channel to its parent. */
export interface ParentChannel {
  post(msg: FromWorker, transfer?: Transferable[]): void;
  onMessage(listener: (msg: ToWorker) => void): void;
  /** Lets the worker exit although the channel is open. */
  unref(): void;
}
