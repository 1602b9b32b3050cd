// Example: cancel pool tasks with an AbortSignal, bound them with timeouts, and wait with deadlines.
import * as mp from 'multiprocessing-ts';

export function busy(ms: number): number {
  const end = Date.now() + ms;
  while (Date.now() < end); // CPU-bound: only killing the worker can stop it
  return ms;
}

if (mp.isMainProcess()) {
  await using pool = new mp.Pool(2);

  // A running task that is aborted kills and replaces its worker; the promise rejects at once.
  const controller = new AbortController();
  const running = pool.apply(busy, [60_000], { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('user pressed cancel')), 100);
  await running.catch((e: Error) =>
    console.log(`aborted: ${e.name} (cause: ${(e.cause as Error).message})`),
  );

  // `timeout` counts from when the task starts running.
  await pool
    .apply(busy, [60_000], { timeout: 100 })
    .catch((e: Error) => console.log(`timed out: ${e.name}`));

  // AbortSignal.timeout() works too, and the pool keeps serving afterwards.
  await pool
    .apply(busy, [60_000], { signal: AbortSignal.timeout(100) })
    .catch((e: Error) => console.log(`signal timeout: ${e.name}`));
  console.log(`still serving: ${await pool.apply(busy, [10])}`);

  // AsyncResult.get(timeout) waits with a deadline without cancelling the task.
  const slow = pool.applyAsync(busy, [300]);
  await slow.get(20).catch((e: Error) => console.log(`get(20): ${e.name}`));
  console.log(`get(): ${await slow.get()}`);

  // Queue and lock waits take timeouts in milliseconds too.
  const q = new mp.Queue<number>();
  await q.get({ timeout: 20 }).catch((e: Error) => console.log(`queue get: ${e.name}`));
  const lock = new mp.Lock();
  lock.acquireSync();
  console.log(`lock acquire with timeout 20: ${await lock.acquire({ timeout: 20 })}`);
  lock.release();
}
