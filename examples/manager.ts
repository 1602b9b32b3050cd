// Example: ten workers each add their result into one managed dict (Python's Manager pattern), and the nested-object pitfall.
import * as mp from 'multiprocessing-ts';

export async function square(results: mp.DictProxy<number, number>, i: number): Promise<void> {
  await results.set(i, i * i);
}

if (mp.isMainProcess()) {
  // The server runs in a thread here; mp.getContext('process').Manager() runs it in a child process.
  await using manager = await mp.Manager();
  const results = await manager.dict<number, number>();
  const workers = Array.from(
    { length: 10 },
    (_, i) => new mp.Process({ target: square, args: [results, i] }),
  );
  for (const p of workers) p.start();
  for (const p of workers) await p.join();
  const squares = (await results.entries()).sort(([a], [b]) => a - b).map(([, v]) => v);
  console.log('squares:', squares.join(' '));

  // Values are copies: changing a nested object you got from a proxy does not change the
  // manager's copy. Assign it back.
  const config = await manager.dict<string, { retries: number }>({ http: { retries: 1 } });
  const http = (await config.get('http'))!;
  http.retries = 5;
  console.log('changed in place:', (await config.get('http'))!.retries);
  await config.set('http', http);
  console.log('assigned back:', (await config.get('http'))!.retries);
}
