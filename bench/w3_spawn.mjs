// W3 spawn: 20 × (start a no-op Process, join it), one after another; ms per start+join.
// Baselines in the peers' run: raw `new Worker` (thread) and raw `child_process.fork` (process).
import * as mp from '../dist/index.js';
import { METHODS, REPS, emit, fail, now } from './lib/common.mjs';
import { noop } from './lib/kernels.mjs';

const COUNT = 20;

async function startJoin(ctx, target) {
  const p = new ctx.Process({ target });
  p.start();
  await p.join();
  return p.exitCode;
}

async function run(method) {
  const ctx = mp.getContext(method);
  for (const [row, target, note] of [
    ['W3-fresh', () => {}, 'new Process({ target: () => {} }): start(), join()'],
    ['W3-module', noop, 'target imported from a module (the worker imports it)'],
  ]) {
    await startJoin(ctx, target); // warm-up
    const vals = [];
    let check = 'ok';
    for (let r = 0; r < REPS; r++) {
      const t0 = now();
      for (let i = 0; i < COUNT; i++) {
        const code = await startJoin(ctx, target);
        if (code !== 0) check = fail(`exit code ${code}`);
      }
      vals.push((now() - t0) / COUNT);
    }
    emit(row, `mp-${method}`, 'ms', vals, { check, note });
  }
}

if (mp.isMainProcess()) for (const method of METHODS) await run(method);
