// Example: imap over an endless input, read lazily, with a progress callback; imapUnordered.
import * as mp from 'multiprocessing-ts';

export async function slowSquare(x: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, (x % 3) * 5));
  return x * x;
}

function* naturals(): Generator<number> {
  for (let i = 0; ; i++) yield i;
}

if (mp.isMainProcess()) {
  const pool = new mp.Pool(2);
  try {
    // The input is endless: imap reads at most `buffersize` chunks ahead of this loop.
    const found: number[] = [];
    for await (const y of pool.imap(slowSquare, naturals(), { chunksize: 4, buffersize: 2 })) {
      if (y % 7 === 0) found.push(y);
      if (found.length === 5) break; // withdraws what is queued and closes the generator
    }
    console.log('first squares divisible by 7:', found.join(' '));

    // onProgress counts items; for an array the total is known from the start.
    const progress: string[] = [];
    const it = pool.imap(slowSquare, [1, 2, 3, 4, 5, 6], {
      chunksize: 2,
      onProgress: (done, total) => progress.push(`${done}/${total}`),
    });
    for await (const _ of it);
    console.log('progress:', progress.join(' '));

    // imapUnordered yields results as they finish.
    const unordered: number[] = [];
    for await (const y of pool.imapUnordered(slowSquare, [5, 4, 3, 2, 1])) unordered.push(y);
    console.log('all results:', unordered.sort((a, b) => a - b).join(' '));
  } finally {
    pool.close();
    await pool.join();
  }
}
