// W4 (DESIGN §10): a Process producer puts 0..99,999 into a Queue with putSync (and put), the parent `await q.get()`s them in order.
// One producer per context is started once; each repetition is timed from the parent's "go" to the last item, as the peers are.
import * as mp from '../dist/index.js';
import { REPS, emit } from './lib/common.mjs';

const N = 100_000;

/** The producer: per repetition, wait for "go", then put N integers (sync or async puts). */
export async function producer(q, go, n, reps, mode) {
  for (let r = 0; r < reps + 1; r++) {
    go.getSync();
    if (mode === 'sync') for (let i = 0; i < n; i++) q.putSync(i);
    else for (let i = 0; i < n; i++) await q.put(i);
  }
}

async function run(method, mode) {
  const ctx = mp.getContext(method);
  const q = new ctx.Queue();
  const go = new ctx.Queue();
  const p = new ctx.Process({ target: producer, args: [q, go, N, REPS, mode] });
  p.start();
  const values = [];
  let check = 'ok';
  for (let r = 0; r < REPS + 1; r++) {
    const t0 = performance.now();
    await go.put(r);
    let bad = 0;
    for (let i = 0; i < N; i++) if ((await q.get()) !== i) bad++;
    const dt = (performance.now() - t0) / 1000;
    if (bad) check = `FAIL: ${bad} items out of order`;
    if (r > 0) values.push(N / dt); // repetition 0 is the warm-up
  }
  await p.join();
  const row = mode === 'sync' ? 'W4' : 'W4-async-put';
  emit(row, `mp-${method}`, 'msgs/s', values, {
    check: check,
    note: `Queue, producer ${mode === 'sync' ? 'putSync' : 'await put'}, parent await get()`,
  });
}

if (mp.isMainProcess()) {
  for (const method of ['thread', 'process']) {
    try {
      for (const mode of ['sync', 'async']) await run(method, mode);
    } catch (e) {
      process.stderr.write(`${method} context failed: ${e?.stack ?? e}\n`);
      process.exitCode = 1;
    }
  }
}
