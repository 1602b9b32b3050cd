// W8 apply latency: 5,000 sequential `await pool.apply(i => i + 1, [i])`, 2 workers; µs per call.
// 200 untimed calls first (warm-up), as the peers.
import * as mp from '../dist/index.js';
import { METHODS, REPS, WORKERS, emit, fail, now } from './lib/common.mjs';

const N = 5_000;
const WARMUP = 200;

async function run(method) {
  const pool = new (mp.getContext(method).Pool)(WORKERS);
  for (let i = 0; i < WARMUP; i++) await pool.apply((i) => i + 1, [i]);
  const vals = [];
  let check = 'ok';
  for (let r = 0; r < REPS; r++) {
    let bad = 0;
    const t0 = now();
    for (let i = 0; i < N; i++) if ((await pool.apply((i) => i + 1, [i])) !== i + 1) bad++;
    const dt = now() - t0;
    if (bad) check = fail(`${bad} wrong results`);
    vals.push((dt / N) * 1000);
  }
  emit('W8', `mp-${method}`, 'us', vals, { check, note: 'await pool.apply(i => i + 1, [i])' });
  pool.close();
  await pool.join();
}

if (mp.isMainProcess()) for (const method of METHODS) await run(method);
