// The worker runtime's own wire types: the boot record, lifecycle messages, holding reports.
import type { SerializedError } from '../reduction/errors.ts';
import type { InheritedState } from './state.ts';

/**
 * What a worker runs, as far as the backend and the boot record are concerned: only its kind,
 * which names its role in the runtime's role table (runtime/roles.ts); the rest is the role's own.
 * @example
 * const job: WorkerJob = { kind: 'pool', initializer: null, initargs: [], walked: false }
 */
export interface WorkerJob {
  /** The worker's role. */
  readonly kind: string;
}

/**
 * Everything a worker needs to start; a thread gets it with its workerData, a child process
 * over IPC once it has said hello.
 * @example
 * const boot: BootRecord = { runtimeUrl: kRuntimeUrl, inherited, job }
 */
export interface BootRecord {
  /** The runtime module the worker's entry hands over to. */
  readonly runtimeUrl: string;
  /** Who the worker is: its name, identity, parent and logging. */
  readonly inherited: InheritedState;
  /** What it runs. */
  readonly job: WorkerJob;
}

/**
 * A child process's first message: its boot listener is attached, the boot record may come.
 * @example
 * process.send({ t: 'hello' } satisfies HelloMessage)
 */
export interface HelloMessage {
  readonly t: 'hello';
}

/**
 * The boot record, sent to a child process that has said hello.
 * @example
 * child.send({ t: 'boot', boot } satisfies BootMessage)
 */
export interface BootMessage {
  readonly t: 'boot';
  readonly boot: BootRecord;
}

/**
 * Asks a pool worker or a manager server to exit once it is idle.
 * @example
 * handle.post({ t: 'stop' } satisfies StopMessage)
 */
export interface StopMessage {
  readonly t: 'stop';
}

/**
 * A worker has started (its initializer has run) and takes requests.
 * @example
 * channel.post({ t: 'ready' } satisfies ReadyMessage)
 */
export interface ReadyMessage {
  readonly t: 'ready';
}

/**
 * A worker's initializer failed; the worker exits with code 1 next.
 * @example
 * channel.post({ t: 'init-failed', error: serializeError(error) } satisfies InitFailedMessage)
 */
export interface InitFailedMessage {
  readonly t: 'init-failed';
  readonly error: SerializedError;
}

/**
 * The worker now holds a shared object (see runtime/holdings.ts); the parent's backend records it.
 * @example
 * channel.post({ t: 'hold', id: 1, kind: 'mp.Connection', state } satisfies HoldMessage)
 */
export interface HoldMessage {
  readonly t: 'hold';
  readonly id: number;
  /** The key of the releaser that lets go of it (see registerReleaser). */
  readonly kind: string;
  readonly state: unknown;
}

/**
 * The worker released a holding itself.
 * @example
 * channel.post({ t: 'unhold', id: 1 } satisfies UnholdMessage)
 */
export interface UnholdMessage {
  readonly t: 'unhold';
  readonly id: number;
}

/**
 * How a worker tells its parent it has started, or could not: what pool workers and manager
 * servers send before anything else (a Process sends nothing).
 * @example
 * const msg: LifecycleMessage = { t: 'ready' }
 */
export type LifecycleMessage = ReadyMessage | InitFailedMessage;
