// Example: shared Value and Array: five processes increment one counter under its lock; workers fill a shared array.
import * as mp from 'multiprocessing-ts';

export function increment(counter: mp.SynchronizedValue<number>): void {
  const lock = counter.getLock(); // an RLock: `.value` inside it re-enters it
  lock.acquireSync();
  counter.value += 1; // not atomic by itself: the lock makes it so
  lock.release();
}

export function fillRow(arr: mp.SynchronizedArray<'d'>, row: number, width: number): void {
  for (let i = 0; i < width; i++) arr[row * width + i] = row + i / 10; // a real Float64Array
}

if (mp.isMainProcess()) {
  // The seed program: five processes, one Value('i', 0), getLock() around += → 5.
  const counter = mp.Value('i', 0);
  const ps = [1, 2, 3, 4, 5].map(() => new mp.Process({ target: increment, args: [counter] }));
  for (const p of ps) p.start();
  for (const p of ps) await p.join();
  console.log('counter:', counter.value);

  // Python's wrap-around and 64-bit codes as bigints.
  console.log(
    "Value('b', 200):",
    mp.Value('b', 200).value,
    "Value('Q', -1n):",
    mp.Value('Q', -1n).value,
  );

  // Array: a typed array over shared memory, with getLock()/getObj().
  const width = 3;
  const arr = mp.Array('d', 2 * width);
  const fillers = [0, 1].map((row) => new mp.Process({ target: fillRow, args: [arr, row, width] }));
  for (const p of fillers) p.start();
  for (const p of fillers) await p.join();
  console.log('array:', [...arr].join(' '), '| is a Float64Array:', arr instanceof Float64Array);

  // The same with child processes: there each element access is a round trip to the broker.
  const ctx = mp.getContext('process');
  const c2 = ctx.Value('i', 0);
  const ps2 = [1, 2, 3].map(() => new ctx.Process({ target: increment, args: [c2] }));
  for (const p of ps2) p.start();
  for (const p of ps2) await p.join();
  console.log('process-context counter:', c2.value);
}
