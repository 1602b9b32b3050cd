// Example: child processes on mapped shared memory: locked counters, a real typed array and a queue, at thread speed.
import * as mp from 'multiprocessing-ts';

export function count(counter: mp.SynchronizedValue<number>, times: number): void {
  const lock = counter.getLock();
  for (let i = 0; i < times; i++) {
    lock.acquireSync();
    counter.value += 1;
    lock.release();
  }
}

export function describeArray(arr: mp.SynchronizedArray<'d'>, out: mp.Queue<string>): void {
  // In the child too: a Float64Array over the very memory the parent sees.
  arr[0] = 42;
  out.putSync(`child sees a Float64Array: ${arr instanceof Float64Array}`);
}

if (mp.isMainProcess()) {
  const ctx = mp.getContext('process');
  // 'mapped' on Linux with the native addon; 'broker' elsewhere (same results, slower).
  console.log('process context shared memory:', ctx.sharedMemory);

  const counter = ctx.Value('i', 0);
  const started = performance.now();
  const ps = [0, 1, 2, 3].map(
    () =>
      new ctx.Process({
        target: count,
        args: [counter, ctx.sharedMemory === 'mapped' ? 25_000 : 250],
      }),
  );
  for (const p of ps) p.start();
  for (const p of ps) await p.join();
  const expected = ctx.sharedMemory === 'mapped' ? 100_000 : 1_000;
  console.log(
    `counter: ${counter.value} of ${expected}`,
    counter.value === expected ? 'exact' : 'WRONG',
  );
  console.log(`(${Math.round(performance.now() - started)} ms, process start-up included)`);

  const arr = ctx.Array('d', 4);
  const out = new ctx.Queue<string>();
  const p = new ctx.Process({ target: describeArray, args: [arr, out] });
  p.start();
  console.log(await out.get());
  await p.join();
  console.log('parent reads arr[0]:', arr[0]);
}
