// W1 tiny-map: `await pool.map(x => x * x, xs)` over the integers 0..99,999, 2 workers, default
// chunking (W1-default) and 1,000 items per task (W1-chunk), in the thread and process contexts.
import * as mp from '../dist/index.js';
import { METHODS, REPS, WORKERS, emit, fail, now, range } from './lib/common.mjs';

const N = 100_000;
const data = range(N);
const expected = data.reduce((s, x) => s + x * x, 0);

async function run(method) {
  const pool = new (mp.getContext(method).Pool)(WORKERS);
  await pool.map((x) => x * x, range(8), 1); // warm-up: the workers are up
  for (const [row, chunksize, note] of [
    ['W1-default', undefined, 'pool.map(x => x * x, xs), default chunksize (12,500)'],
    ['W1-chunk', 1000, 'pool.map(x => x * x, xs, 1000)'],
  ]) {
    const vals = [];
    let check = 'ok';
    for (let r = 0; r < REPS; r++) {
      const t0 = now();
      const res = await pool.map((x) => x * x, data, chunksize);
      const dt = (now() - t0) / 1000;
      if (res.length !== N || res.reduce((s, x) => s + x, 0) !== expected)
        check = fail(`${row}: wrong result`);
      vals.push(N / dt);
    }
    emit(row, `mp-${method}`, 'items/s', vals, { check, note });
  }
  pool.close();
  await pool.join();
}

if (mp.isMainProcess()) for (const method of METHODS) await run(method);
