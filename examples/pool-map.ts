// Example: Pool.map and starmap, as in Python, with results typed from your function.
import * as mp from 'multiprocessing-ts';

export function square(x: number): number {
  return x * x;
}

export function multiply(a: number, b: number): number {
  return a * b;
}

if (mp.isMainProcess()) {
  // close() + join(): the workers finish what was submitted, then exit.
  const pool = new mp.Pool(4);
  try {
    const squares: number[] = await pool.map(
      square,
      Array.from({ length: 10 }, (_, i) => i),
    );
    console.log('squares:', squares.join(' '));
    console.log(
      'products:',
      (
        await pool.starmap(multiply, [
          [2, 3],
          [4, 5],
        ])
      ).join(' '),
    );
    // A self-contained arrow travels as source; an async function is awaited in the worker.
    console.log('cubes:', (await pool.map((x: number) => x ** 3, [1, 2, 3])).join(' '));
    const worker = await pool.apply(() => mp.currentProcess().name).catch((e) => e.name);
    console.log('an arrow that uses a module import cannot travel:', worker);
  } finally {
    pool.close();
    await pool.join();
  }

  // The same code on child processes: isolation, at the price of a slower start.
  const procs = new (mp.getContext('process').Pool)(2);
  const pids = new Set(await procs.map(() => process.pid, [1, 2, 3, 4], 1));
  console.log('ran in other processes:', !pids.has(process.pid));
  await procs.terminate();
}
