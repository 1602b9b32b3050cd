// The runtime every worker runs: adopts its inherited identity, then runs the runner of its role.
import { parentChannel } from '../backends/parent-channel.ts';
import type { LocalMethod, ParentChannel } from '../backends/types.ts';
import { getLogger } from '../logging.ts';
import { loadAllKinds } from '../reduction/kinds.ts';
import type { BootRecord } from './protocol.ts';
import { type WorkerRole, kRoles } from './roles.ts';
import { assignMethod } from './start-method.ts';
import { adoptInherited, state } from './state.ts';
import { dieWithParent } from './parent-death.ts';

/** Prints an uncaught error the way Python's child does: `Process <name>:` then the stack. */
export function reportUncaught(error: unknown): void {
  const text =
    error instanceof Error
      ? (error.stack ?? `${error.name}: ${error.message}`)
      : `Uncaught ${String(error)}`;
  process.stderr.write(`Process ${state().name}:\n${text}\n`);
}

/** Waits until everything written to stdout/stderr has left this worker. */
function flushStdio(): Promise<unknown> {
  return Promise.all(
    [process.stdout, process.stderr].map(
      (s) => new Promise<void>((resolve) => s.write('', () => resolve())),
    ),
  );
}

/** Python's exit of a child: terminate daemonic children, join the others. */
async function settleChildren(): Promise<void> {
  const children = [...state().children];
  for (const child of children) if (child.daemon && child.isAlive()) child.terminate();
  await Promise.all(children.map((child) => child.join().catch(() => {})));
}

/** Ends this worker with `code` once its output is flushed and its children are settled. */
export async function exitWorker(code: number): Promise<never> {
  await settleChildren();
  await flushStdio();
  process.exit(code);
}

/**
 * Loads the module of every travelling kind (each registers its reviver on load) before a value
 * holding handles is decoded; workers whose arguments hold none skip this start-up cost.
 * @example
 * if (job.walked) await loadRevivers()
 */
export function loadRevivers(): Promise<void> {
  return loadAllKinds();
}

/**
 * Entry point called by entry.mjs with the boot record: adopts the inherited identity, then runs
 * the runner of the job's role.
 * @example
 * await runWorker(boot)
 */
export async function runWorker(boot: BootRecord): Promise<void> {
  dieWithParent();
  adoptInherited(boot.inherited);
  const logger = getLogger();
  logger.level = boot.inherited.logLevel;
  logger.enableStderr(boot.inherited.logToStderr);
  assignMethod(boot.inherited.startMethod as LocalMethod | null);
  process.on('uncaughtException', (error) => {
    reportUncaught(error);
    void exitWorker(1);
  });
  const kind = boot.job.kind;
  if (!Object.hasOwn(kRoles, kind))
    throw new Error(`assertion failed: no runner for a '${kind}' worker`);
  // The role table pairs each kind with its runner: the job is that runner's own.
  const runner = kRoles[kind as WorkerRole].runner;
  const run = (await runner()) as (job: unknown, channel: ParentChannel) => Promise<void>;
  await run(boot.job, parentChannel());
}
