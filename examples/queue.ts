// Example: worker processes put results into a Queue; the parent gets them, then closes the queue.
import * as mp from 'multiprocessing-ts';

export function square(q: mp.Queue<[number, number]>, n: number): void {
  q.putSync([n, n * n]); // in a worker, the blocking form is fine
}

if (mp.isMainProcess()) {
  const q = new mp.Queue<[number, number]>();
  const procs = [1, 2, 3, 4, 5].map((n) => new mp.Process({ target: square, args: [q, n] }));
  for (const p of procs) p.start();
  const results = new Map<number, number>();
  for (let i = 0; i < procs.length; i++) {
    const [n, sq] = await q.get(); // in the parent, await the async form
    results.set(n, sq);
  }
  for (const p of procs) await p.join();
  console.log(
    'squares:',
    [...results.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, s]) => s)
      .join(' '),
  );

  // A bounded queue: putNowait throws Full, getNowait throws Empty.
  const small = new mp.Queue<string>(1);
  small.putNowait('a');
  try {
    small.putNowait('b');
  } catch (e) {
    console.log('second put:', (e as Error).name);
  }
  console.log('got:', small.getNowait());
  await small
    .get({ timeout: 10 })
    .catch((e: Error) => console.log('empty get after 10 ms:', e.name));

  // close() ends every consumer's `for await` once the queue is drained.
  q.close();
  for await (const item of q) console.log('left over:', item);
  console.log('closed and drained');
}
