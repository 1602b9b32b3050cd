// The contract every backend fulfils: Backend, WorkerHandle, ParentChannel, with their options.
import type { ResourceLimits, TransferListItem } from 'node:worker_threads';
import type { Destination } from '../reduction/values.ts';
import type { BootRecord } from '../runtime/protocol.ts';

/**
 * Something a message may move instead of copy (an ArrayBuffer, a MessagePort…).
 * @example
 * const transfer: Transferable[] = [bytes.buffer]
 */
export type Transferable = TransferListItem;

/**
 * Where workers run: a thread of this process, or a child process.
 * @example
 * const method: LocalMethod = 'thread'
 */
export type LocalMethod = 'thread' | 'process';

/**
 * Any message between a worker and its parent: tagged by `t`. Backends carry messages without
 * knowing their kinds; each role declares its own (pool/protocol.ts, runtime/protocol.ts…).
 * @example
 * const stop: Message = { t: 'stop' }
 */
export interface Message {
  readonly t: string;
}

/**
 * What a backend needs to start a worker.
 * @example
 * backend.spawn({ boot, transfer: [], name: 'PoolWorker-1', fastPath: true }, events)
 */
export interface SpawnOptions {
  /** Handed to the worker's runtime as it starts. */
  readonly boot: BootRecord;
  /** What the boot record moves instead of copying (thread workers only). */
  readonly transfer: Transferable[];
  /** The worker's name (a thread's name in the inspector and in crash reports). */
  readonly name: string;
  /** The worker's environment. @default process.env */
  readonly env?: Record<string, string | undefined> | undefined;
  /** Extra Node flags for the worker. @default [] */
  readonly execArgv?: readonly string[] | undefined;
  /** Memory and stack limits. @default none */
  readonly resourceLimits?: ResourceLimits | undefined;
  /**
   * The worker answers many short requests (a pool worker): give it the backend's fast path
   * where there is one (see {@link FastPath}).
   * @default false
   */
  readonly fastPath?: boolean | undefined;
}

/**
 * Callbacks a backend reports through.
 * @example
 * const events: WorkerEvents<FromPoolWorker> = { message: (msg) => slot.receive(msg), exit: (code) => slot.exited(code) }
 */
export interface WorkerEvents<In extends Message = Message> {
  /** A message from the worker (the runtime's holding reports are the backend's own, not passed on). */
  message(msg: In): void;
  /** `exitCode` in Python's convention (−signal after a signal); called once, after every message. */
  exit(exitCode: number, signal: string | null): void;
}

/**
 * A backend's quicker way to hear a worker's answers, for workers spawned with `fastPath`
 * (threads: an answer port the parent reads directly, without waiting for its event loop).
 * @example
 * if (fast && recentAnswerMs < fast.watchMs) fast.watch(() => task.answered)
 */
export interface FastPath {
  /** How long after a request looking for its answer pays off (ms); 0: never. */
  readonly watchMs: number;
  /**
   * Looks for the worker's answers on every turn of the event loop, for at most `watchMs`,
   * until `answered()` holds; what arrives goes to `WorkerEvents.message` as usual.
   */
  watch(answered: () => boolean): void;
}

/**
 * A started worker, whatever it runs on.
 * @example
 * const handle = backendEntry('thread').backend.spawn(options, events)
 * handle.post({ t: 'stop' })
 */
export interface WorkerHandle<Out extends Message = Message> {
  readonly pid: number;
  readonly ident: number;
  /** Posts `msg` to the worker (waking it at once if it waits on a fast path). */
  post(msg: Out, transfer?: Transferable[]): void;
  /** Asks the worker to stop now: SIGTERM for a process, `worker.terminate()` for a thread (−15). */
  terminate(): void;
  /** Stops the worker at once: SIGKILL for a process, `worker.terminate()` for a thread (−9). */
  kill(): void;
  ref(): void;
  unref(): void;
  /** Present when the worker was spawned with `fastPath` and the backend has one. */
  readonly fastPath?: FastPath | undefined;
}

/**
 * A way of running workers.
 * @example
 * const handle = threadBackend.spawn<FromPoolWorker, ToPoolWorker>(options, events)
 */
export interface Backend {
  readonly method: LocalMethod;
  spawn<In extends Message = Message, Out extends Message = Message>(
    options: SpawnOptions,
    events: WorkerEvents<In>,
  ): WorkerHandle<Out>;
}

/**
 * The worker's side of the channel to its parent.
 * @example
 * const channel = parentChannel()
 * channel.post({ t: 'ready' })
 */
export interface ParentChannel<In extends Message = Message, Out extends Message = Message> {
  /** Who receives what this worker posts: encode values for it. */
  readonly destination: Destination;
  /**
   * Whether this worker's stdout and stderr reach the parent asynchronously, behind a message
   * posted now (a thread's are forwarded by its parent): flush them before an answer that must
   * come after what was printed.
   */
  readonly forwardsOutput: boolean;
  post(msg: Out, transfer?: Transferable[]): void;
  /** Posts the answer to a request, on the backend's fast path where it has one. */
  answer(msg: Out, transfer?: Transferable[]): void;
  onMessage(listener: (msg: In) => void): void;
  /**
   * Hands each message from the parent to `handle`, which returns true once it has dealt with
   * it completely; on a fast path the channel then takes the next message at once, without
   * going back to the event loop. Returns what to call when a message `handle` left pending is
   * dealt with (and once after the worker says it is ready), to resume taking messages that way.
   */
  serve(handle: (msg: In) => boolean): () => void;
  /** Calls `listener` if the parent goes away while this worker runs (never for a thread). */
  onDisconnect(listener: () => void): void;
  /** Lets the worker exit although the channel is open. */
  unref(): void;
}
