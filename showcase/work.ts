// Functions the showcase runs in workers (a module without top-level side effects, so workers import it cheaply).
import * as mp from 'multiprocessing-ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Python's first tutorial program: a worker that reports when it starts and finishes. */
export async function worker(num: number): Promise<void> {
  const me = mp.currentProcess();
  console.log(
    `  Worker ${num} started  (${me.name}, pid ${me.pid}, parent ${mp.parentProcess()?.name})`,
  );
  await sleep(100 + 50 * num);
  console.log(`  Worker ${num} finished (${me.name})`);
}

/** A worker that fails: its error is printed as "Process <name>:" and its exit code is 1. */
export function failing(): void {
  throw new Error('something went wrong in the worker');
}
