// W2 cpu-map: 32 × countPrimes(300000) through pool.map (the kernel travels by module reference),
// 2 workers; speedup = serial time in this thread / parallel time, serial and parallel alternating.
import * as mp from '../dist/index.js';
import { METHODS, REPS, WORKERS, emit, fail, now } from './lib/common.mjs';
import { W2_EXPECTED, W2_LIMIT, W2_TASKS, countPrimes } from './lib/kernels.mjs';

const args = Array.from({ length: W2_TASKS }, () => W2_LIMIT);

async function run(method) {
  const pool = new (mp.getContext(method).Pool)(WORKERS);
  await pool.map(
    countPrimes,
    Array.from({ length: 8 }, () => 10),
    1,
  ); // warm-up
  const serial = [];
  const parallel = [];
  const speedup = [];
  let check = 'ok';
  for (let r = 0; r < REPS; r++) {
    let t0 = now();
    const resS = args.map((a) => countPrimes(a));
    const ts = now() - t0;
    t0 = now();
    const resP = await pool.map(countPrimes, args);
    const tp = now() - t0;
    if (!resS.every((c) => c === W2_EXPECTED) || !resP.every((c) => c === W2_EXPECTED))
      check = fail('W2: wrong prime count');
    serial.push(ts);
    parallel.push(tp);
    speedup.push(ts / tp);
  }
  const peer = `mp-${method}`;
  emit('W2-speedup', peer, 'x', speedup, { check });
  emit(
    'W2-eff',
    peer,
    '%',
    speedup.map((s) => (s / WORKERS) * 100),
    { check },
  );
  emit('W2-serial', peer, 'ms', serial, { check });
  emit('W2-parallel', peer, 'ms', parallel, { check });
  pool.close();
  await pool.join();
}

if (mp.isMainProcess()) for (const method of METHODS) await run(method);
