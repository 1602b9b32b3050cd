// Example: move big buffers to workers with transfer() instead of copying them, or share one with RawArray.
import * as mp from 'multiprocessing-ts';

export function sum(values: Float64Array): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  return total;
}

export function sumRange(shared: Float64Array, from: number, to: number): number {
  let total = 0;
  for (let i = from; i < to; i++) total += shared[i]!;
  return total;
}

if (mp.isMainProcess()) {
  await using pool = new mp.Pool(2);
  const arrays = Array.from({ length: 4 }, (_, k) => new Float64Array(1_000_000).fill(k));

  // transfer(): each array's memory moves to the worker; the sender's copy becomes empty.
  const sums = await pool.map(
    sum,
    arrays.map((a) => mp.transfer(a)),
    1,
  );
  console.log(`sums: ${sums.join(' ')}; sender's first array now has length ${arrays[0]!.length}`);

  // Zero copy: one RawArray over shared memory, tasks get index ranges.
  const shared = mp.RawArray('d', 4_000_000);
  shared.fill(1);
  const parts = await pool.starmap(sumRange, [
    [shared, 0, 2_000_000],
    [shared, 2_000_000, 4_000_000],
  ]);
  console.log(`shared sum: ${parts[0]! + parts[1]!}`);
}
