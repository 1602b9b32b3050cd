// Example: the producer/consumer pattern with a JoinableQueue: consumers call taskDone(), the producer join()s.
import * as mp from 'multiprocessing-ts';

export async function consumer(
  jobs: mp.JoinableQueue<number>,
  results: mp.Queue<string>,
): Promise<void> {
  for await (const n of jobs) {
    await results.put(`${mp.currentProcess().name}: ${n} -> ${n * 10}`);
    jobs.taskDone();
  }
}

if (mp.isMainProcess()) {
  const jobs = new mp.JoinableQueue<number>();
  const results = new mp.Queue<string>();
  const workers = [1, 2].map(() => new mp.Process({ target: consumer, args: [jobs, results] }));
  for (const w of workers) w.start();
  for (let n = 1; n <= 6; n++) await jobs.put(n);
  await jobs.join(); // every job has been marked done
  console.log('all jobs done; results:', results.qsize());
  for (let i = 0; i < 6; i++) console.log(await results.get());
  jobs.close(); // ends the consumers' `for await`
  for (const w of workers) await w.join();
  console.log('consumers exited:', workers.map((w) => w.exitCode).join(' '));
}
