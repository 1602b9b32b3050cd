// Example: start processes with a target function, wait for them, read their exit codes.
import * as mp from 'multiprocessing-ts';

export async function worker(num: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  console.log(`worker ${num} ran in ${mp.currentProcess().name}`);
}

if (mp.isMainProcess()) {
  const jobs = [1, 2, 3].map((n) => new mp.Process({ target: worker, args: [n] }));
  for (const p of jobs) p.start();
  for (const p of jobs) await p.join();
  console.log('exit codes:', jobs.map((p) => p.exitCode).join(' '));

  // join(timeout) returns while the process is still running; terminate() stops it (exit code -15).
  const slow = new mp.Process({
    target: () => new Promise((resolve) => setTimeout(resolve, 60_000)),
  });
  slow.start();
  await slow.join(100);
  console.log('still alive after 100 ms:', slow.isAlive());
  slow.terminate();
  await slow.join();
  console.log('after terminate():', slow.exitCode);
}
