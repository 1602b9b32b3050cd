// Starts a worker of any role (Process, pool worker, manager server) on its start method's backend.
import type { ResourceLimits } from 'node:worker_threads';
import { backendEntry } from '../backends/index.ts';
import type {
  LocalMethod,
  Message,
  Transferable,
  WorkerEvents,
  WorkerHandle,
} from '../backends/types.ts';
import { kRuntimeUrl } from '../backends/urls.ts';
import { getLogger } from '../logging.ts';
import type { BootRecord } from './protocol.ts';
import { type WorkerJobs, type WorkerRole, kRoles } from './roles.ts';
import { peekMethod } from './start-method.ts';
import { type InheritedState, currentIdent, state } from './state.ts';

/**
 * How to start one worker.
 * @example
 * const options: SpawnWorkerOptions<FromPoolWorker> = { method: 'thread', name: 'PoolWorker-1', identity: [1], daemon: true, events }
 */
export interface SpawnWorkerOptions<In extends Message = Message> {
  /** The start method whose backend runs the worker. */
  readonly method: LocalMethod;
  /** The worker's name (`Process-1`, `PoolWorker-2`, `SyncManager-3`). */
  readonly name: string;
  /** Its identity, as `nextIdentity()` gave it when the worker's object was made. */
  readonly identity: readonly number[];
  /** Whether it is daemonic (it cannot start children then). */
  readonly daemon: boolean;
  /** What the job moves instead of copying (thread workers). @default [] */
  readonly transfer?: Transferable[] | undefined;
  /** The worker's environment. @default process.env */
  readonly env?: Record<string, string | undefined> | undefined;
  /** Extra Node flags for the worker. @default [] */
  readonly execArgv?: readonly string[] | undefined;
  /** Memory and stack limits. @default none */
  readonly resourceLimits?: ResourceLimits | undefined;
  /** Ask for the backend's fast path (a pool worker). @default false */
  readonly fastPath?: boolean | undefined;
  /** Where the worker's messages and its exit are reported. */
  readonly events: WorkerEvents<In>;
}

/**
 * Starts a worker of `role` running `job`, as a child of this thread: it inherits this thread's
 * logging, default start method and parent identity. Throws what the backend throws at once (a
 * thread's boot record that cannot be cloned).
 * @example
 * const handle = spawnWorker('pool', job, { method: 'thread', name, identity, daemon: true, fastPath: true, events })
 */
export function spawnWorker<R extends WorkerRole, In extends Message, Out extends Message>(
  role: R,
  job: WorkerJobs[R],
  options: SpawnWorkerOptions<In>,
): WorkerHandle<Out> {
  const s = state();
  const inherited: InheritedState = {
    name: options.name,
    identity: options.identity,
    daemon: options.daemon,
    parent: { name: s.name, pid: process.pid, ident: currentIdent() },
    logLevel: getLogger().level,
    logToStderr: getLogger().toStderr,
    startMethod: peekMethod(),
    role: kRoles[role].inherited,
  };
  const boot: BootRecord = { runtimeUrl: kRuntimeUrl, inherited, job };
  return backendEntry(options.method).backend.spawn<In, Out>(
    {
      boot,
      transfer: options.transfer ?? [],
      name: options.name,
      env: options.env,
      execArgv: options.execArgv,
      resourceLimits: options.resourceLimits,
      fastPath: options.fastPath,
    },
    options.events,
  );
}
