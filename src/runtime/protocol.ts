// The worker runtime's own messages and boot record, shared by every kind of worker.
import type { SerializedError } from '../reduction/errors.ts';
import type { InheritedState } from './state.ts';
import type { ManagerJob } from '../managers/server.ts';
import type { PoolJob } from '../pool/protocol.ts';
import type { ProcessJob } from '../process-job.ts';

/**
 * What a worker runs, as far as the backend and the boot record are concerned: only its kind,
 * which names the runtime's runner (see runtime/worker.ts); the rest is the role's own.
 * @example
 * const job: WorkerJob = { kind: 'pool', initializer: null, initargs: [], walked: false }
 */
export interface WorkerJob {
  /** The role of the worker, a key of {@link WorkerJobs}. */
  readonly kind: string;
}

/**
 * The job of each role a worker can have; a role's key is its job's `kind`.
 * @example
 * const job: WorkerJobs['manager'] = { kind: 'manager', address, authkey, registry, initializer: null, initargs: [], walked: false }
 */
export interface WorkerJobs {
  /** A Process: a target function, or `run()` of a subclass instance. */
  readonly process: ProcessJob;
  /** A pool worker: its initializer, then tasks as they arrive. */
  readonly pool: PoolJob;
  /** A manager's object server. */
  readonly manager: ManagerJob;
}

/**
 * A role a worker can have.
 * @example
 * const role: WorkerRole = 'pool'
 */
export type WorkerRole = keyof WorkerJobs;

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
