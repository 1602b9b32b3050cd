// Example: the README's ten-line tour (kept runnable by the examples test).
import * as mp from 'multiprocessing-ts';

export const square = (x: number) => x * x;

if (mp.isMainProcess()) {
  await using pool = new mp.Pool(4); // terminate() at the end of the block
  console.log(await pool.map(square, [0, 1, 2, 3])); // [0, 1, 4, 9]: number[]
  for await (const r of pool.imap(square, naturals(), { buffersize: 8 })) if (r > 100) break;
  const q = new mp.Queue<string>();
  const p = new mp.Process({ target: (q: mp.Queue<string>) => q.putSync('hi'), args: [q] });
  p.start();
  console.log(await q.get()); // 'hi'
  await p.join();
}
function* naturals() {
  for (let i = 0; ; i++) yield i;
}
