// The runtime every worker runs: adopts its inherited identity, then runs a Process job or a pool loop.
import { writeSync } from 'node:fs';
import { parentChannel } from '../backends/parent-channel.ts';
import type { BootRecord, ProcessJob } from '../backends/types.ts';
import { getLogger } from '../logging.ts';
import { decode } from '../reduction/values.ts';
import { reviveFunction, settleRevivals } from '../reduction/revive.ts';
import { assignMethod } from './start-method.ts';
import { adoptInherited, state } from './state.ts';
import type { LocalMethod } from '../backends/types.ts';

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
 * Loads every primitive's module (each registers its reviver on load) before a value holding
 * handles is decoded; workers whose arguments hold none skip this start-up cost.
 */
export async function loadRevivers(): Promise<void> {
  await import('../index.ts');
}

/** Set while a Process's target (or run()) has been called and has not settled. */
let targetPending = false;

/**
 * Node ends a thread or process whose event loop is empty with exit code 13 while its entry
 * still awaits: for a Process, a target whose promise nothing is left to settle. Say so, as
 * Python's child would print why it ended, instead of exiting with an unexplained 13.
 * ('beforeExit' is the last moment the loop is known to be empty; 'exit' reports code 0 here.)
 */
function explainUnsettledTarget(): void {
  if (!targetPending) return;
  targetPending = false;
  writeSync(
    2,
    `Process ${state().name}:\nError: the target returned a promise that never settled, and nothing was left ` +
      'that could settle it (no timer, I/O or wait pending): the worker ends with exit code 13\n',
  );
}

async function runProcessJob(job: ProcessJob): Promise<number> {
  process.on('beforeExit', explainUnsettledTarget);
  try {
    if (job.walked || job.subclass?.walked) await loadRevivers();
    getLogger().debug('child process calling self.run()');
    if (job.subclass) {
      const cls = (await reviveFunction(job.subclass.cls)) as new (...args: unknown[]) => {
        run(): unknown;
      };
      const { Process, kRevive } = await import('../process.ts');
      const self = Reflect.construct(Process, [kRevive], cls) as { run(): unknown };
      Object.assign(self, decode(job.subclass.fields, job.subclass.walked));
      await settleRevivals();
      targetPending = true;
      await self.run();
    } else if (job.target) {
      const target = await reviveFunction(job.target);
      const args = decode(job.args, job.walked) as unknown[];
      await settleRevivals();
      targetPending = true;
      await target(...args);
    }
    targetPending = false;
    getLogger().debug('process shutting down');
    return 0;
  } catch (error) {
    targetPending = false;
    reportUncaught(error);
    return 1;
  }
}

/** Entry point called by entry.mjs with the boot record. */
export async function runWorker(boot: BootRecord): Promise<void> {
  adoptInherited(boot.inherited);
  const logger = getLogger();
  logger.level = boot.inherited.logLevel;
  logger.enableStderr(boot.inherited.logToStderr);
  assignMethod(boot.inherited.startMethod as LocalMethod | null);
  process.on('uncaughtException', (error) => {
    reportUncaught(error);
    void exitWorker(1);
  });
  const channel = parentChannel();
  if (boot.job.kind === 'process') {
    channel.unref();
    const code = await runProcessJob(boot.job);
    getLogger().debug(`process exiting with exitcode ${code}`);
    await exitWorker(code);
  } else if (boot.job.kind === 'manager') {
    const { runManagerServer } = await import('../managers/server.ts');
    await runManagerServer(boot.job, channel);
  } else {
    const { runPoolWorker } = await import('../pool/worker-loop.ts');
    await runPoolWorker(boot.job, channel);
  }
}
