// W6-lock-full: the W6 locked counter with Python's count, 2 × 50,000 increments, in every context.
// bench/w6_counter.mjs runs the process context with 2 × 2,000 only (each lock op and .value access
// was a broker round trip); with mapped memory the children reach the Value directly, so this
// script runs the peers' full count. Same method: per repetition a fresh Value and 2 fresh workers
// that report ready and block on an Event; timed from the parent's set() to the later worker's end
// stamp (process.hrtime.bigint()). The process context is skipped when its memory is the broker.
import * as mp from '../dist/index.js';
import { METHODS, REPS, emit, fail } from './lib/common.mjs';

const PER_WORKER = 50_000;

/** One worker: report ready, wait for go, n locked increments, stamp the end. */
export function counter(v, ready, go, ends, slot, n) {
  const lock = v.getLock();
  ready.release();
  go.waitSync();
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    v.value += 1;
    lock.release();
  }
  ends[slot] = process.hrtime.bigint();
}

async function once(ctx, n) {
  const v = ctx.Value('i', 0);
  const ready = new ctx.Semaphore(0);
  const go = new ctx.Event();
  const ends = ctx.Array('Q', 2, { lock: false });
  const ps = [0, 1].map(
    (slot) => new ctx.Process({ target: counter, args: [v, ready, go, ends, slot, n] }),
  );
  for (const p of ps) p.start();
  for (let i = 0; i < 2; i++) await ready.acquire();
  const t0 = process.hrtime.bigint();
  go.set();
  for (const p of ps) await p.join();
  const t1 = ends[0] > ends[1] ? ends[0] : ends[1];
  return { rate: (2 * n) / (Number(t1 - t0) / 1e9), count: v.value };
}

if (mp.isMainProcess()) {
  for (const method of METHODS) {
    const ctx = mp.getContext(method);
    const memory = ctx.sharedMemory ?? 'broker';
    if (method === 'process' && memory === 'broker') {
      process.stderr.write('W6-lock-full: process context skipped (broker memory)\n');
      continue;
    }
    try {
      await once(ctx, 2_000); // warm-up, untimed
      const values = [];
      let check = 'ok';
      for (let r = 0; r < REPS; r++) {
        const { rate, count } = await once(ctx, PER_WORKER);
        if (count !== 2 * PER_WORKER) check = fail(`W6-lock-full ${method}: count ${count}`);
        values.push(rate);
      }
      emit('W6-lock-full', `mp-${method}`, 'incr/s', values, {
        check,
        note: `Value('i') + getLock() (RLock), acquireSync / v.value += 1 / release; 2 × 50,000 increments (Python's count); memory ${memory}`,
      });
    } catch (e) {
      process.stderr.write(`${method} context failed: ${e?.stack ?? e}\n`);
      process.exitCode = 1;
    }
  }
}
