// The worker side of a Process: its job record, plus the runner calling its target or run().
import { writeSync } from 'node:fs';
import type { ParentChannel } from './backends/types.ts';
import { getLogger } from './logging.ts';
import type { FnRef } from './reduction/functions.ts';
import { loadAllKinds } from './reduction/kinds.ts';
import { reviveFunction, settleRevivals } from './reduction/revive.ts';
import { decode } from './reduction/values.ts';
import { state } from './runtime/state.ts';
import { exitWorker, reportUncaught } from './runtime/worker.ts';

/**
 * What a Process worker runs: a target function, or `run()` of a subclass instance.
 * @example
 * const job: ProcessJob = { kind: 'process', target, args: [21], walked: false, subclass: null }
 */
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
    if (job.walked || job.subclass?.walked) await loadAllKinds();
    getLogger().debug('child process calling self.run()');
    if (job.subclass) {
      const cls = (await reviveFunction(job.subclass.cls)) as new (...args: unknown[]) => {
        run(): unknown;
      };
      const { Process, kRevive } = await import('./process.ts');
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

/**
 * Entry point of a Process worker (called by the worker runtime for a 'process' job): runs the
 * job, then exits with its code once the worker's children are settled.
 * @example
 * await runProcessWorker(boot.job as ProcessJob, parentChannel())
 */
export async function runProcessWorker(job: ProcessJob, channel: ParentChannel): Promise<void> {
  // A Process keeps running on its own: the channel must not keep it alive.
  channel.unref();
  const code = await runProcessJob(job);
  getLogger().debug(`process exiting with exitcode ${code}`);
  await exitWorker(code);
}
