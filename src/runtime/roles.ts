// The runtime's role table: for each kind of worker, its job type, inherited role, runner.
import type { ParentChannel } from '../backends/types.ts';
import type { ManagerJob } from '../managers/server.ts';
import type { PoolJob } from '../pool/protocol.ts';
import type { ProcessJob } from '../process-job.ts';
import type { InheritedState } from './state.ts';

/**
 * The job of each role a worker can have; a role's key is its job's `kind`.
 * @example
 * const job: WorkerJobs['pool'] = { kind: 'pool', initializer: null, initargs: [], walked: false }
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
 * Runs a worker's job until the worker exits.
 * @example
 * const run: Runner<'pool'> = runPoolWorker
 */
export type Runner<R extends WorkerRole> = (
  job: WorkerJobs[R],
  channel: ParentChannel<never, never>,
) => Promise<void>;

/** What the runtime knows of one role. */
interface Role<R extends WorkerRole> {
  /** What its worker reports as its own role (a manager server is a process to Python). */
  readonly inherited: InheritedState['role'];
  /** Loads its runner: a worker imports only its own role's code. */
  readonly runner: () => Promise<Runner<R>>;
}

/**
 * Every role, by the `kind` of its job.
 * @example
 * const run = await kRoles[boot.job.kind].runner()
 */
export const kRoles: { readonly [R in WorkerRole]: Role<R> } = {
  process: {
    inherited: 'process',
    runner: async () => (await import('../process-job.ts')).runProcessWorker,
  },
  pool: {
    inherited: 'pool',
    runner: async () => (await import('../pool/worker-loop.ts')).runPoolWorker,
  },
  manager: {
    inherited: 'process',
    runner: async () => (await import('../managers/server.ts')).runManagerServer,
  },
};
