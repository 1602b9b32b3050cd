// W6 (DESIGN §10): two Processes each do `lock.acquireSync(); v.value += 1; lock.release()` on one Value('i').
// As the peers: per repetition a fresh Value and 2 fresh workers that report ready and block on an
// Event; timed from the parent's set() to the later worker's end stamp (process.hrtime.bigint(),
// CLOCK_MONOTONIC in every thread and process). Start-up and exit are not timed.
// Extra row 'W6-warm' (thread context): the same with 2 × 500,000 increments, beside the peers' raw
// SAB lock run by this script with the same count, to separate the fresh workers' JIT warm-up
// (which dominates 2 × 50,000 on a 2-core machine) from the steady state.
import { Worker } from 'node:worker_threads';
import { once as onceEvent } from 'node:events';
import * as mp from '../dist/index.js';
import { METHODS, REPS, emit, fail } from './lib/common.mjs';

const PER_WORKER = { thread: 50_000, process: 2_000 };
const WARM_PER_WORKER = 500_000;

// The peers' raw lock (shared/bench/peers/workers/w6_counter_thread.mjs, mode 'mutex'), inlined.
const kRawWorker = `
const { parentPort, workerData: { sab, n } } = require('node:worker_threads');
const ia = new Int32Array(sab);
function lock() {
  let c = Atomics.compareExchange(ia, 1, 0, 1);
  if (c === 0) return;
  for (let s = 0; s < 100; s++) { c = Atomics.compareExchange(ia, 1, 0, 1); if (c === 0) return; }
  if (c !== 2) c = Atomics.exchange(ia, 1, 2);
  while (c !== 0) { Atomics.wait(ia, 1, 2); c = Atomics.exchange(ia, 1, 2); }
}
function unlock() { if (Atomics.sub(ia, 1, 1) !== 1) { Atomics.store(ia, 1, 0); Atomics.notify(ia, 1, 1); } }
parentPort.postMessage('ready');
Atomics.wait(ia, 0, 0);
for (let i = 0; i < n; i++) { lock(); ia[2] = ia[2] + 1; unlock(); }
parentPort.postMessage(process.hrtime.bigint());`;

/** One repetition of the raw lock with 2 fresh workers × n increments. */
async function rawOnce(n) {
  const sab = new SharedArrayBuffer(12);
  const ia = new Int32Array(sab);
  const ws = [0, 1].map(() => new Worker(kRawWorker, { eval: true, workerData: { sab, n } }));
  const exits = ws.map((w) => onceEvent(w, 'exit'));
  const ends = ws.map(
    (w) =>
      new Promise((resolve) => {
        w.on('message', (m) => {
          if (m !== 'ready') resolve(m);
        });
      }),
  );
  await Promise.all(ws.map((w) => onceEvent(w, 'message')));
  const t0 = process.hrtime.bigint();
  Atomics.store(ia, 0, 1);
  Atomics.notify(ia, 0);
  const [a, b] = await Promise.all(ends);
  await Promise.all(exits);
  return { rate: (2 * n) / (Number((a > b ? a : b) - t0) / 1e9), count: ia[2] };
}

async function warmRows(ctx) {
  for (const [peer, fn] of [
    ['mp-thread', () => once(ctx, WARM_PER_WORKER)],
    ['node-worker', () => rawOnce(WARM_PER_WORKER)],
  ]) {
    const values = [];
    let check = 'ok';
    for (let r = 0; r < REPS; r++) {
      const { rate, count } = await fn();
      if (count !== 2 * WARM_PER_WORKER) check = fail(`W6-warm ${peer}: count ${count}`);
      values.push(rate);
    }
    emit('W6-warm', peer, 'incr/s', values, {
      check,
      note: `2 × ${WARM_PER_WORKER.toLocaleString('en')} increments, fresh workers (${peer === 'mp-thread' ? 'ours' : "the peers' raw SAB lock, run by bench/w6_counter.mjs"})`,
    });
  }
}

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
    const n = PER_WORKER[method];
    try {
      await once(ctx, Math.min(n, 2_000)); // warm-up, untimed
      const values = [];
      let check = 'ok';
      for (let r = 0; r < REPS; r++) {
        const { rate, count } = await once(ctx, n);
        if (count !== 2 * n) check = fail(`W6 ${method}: count ${count} != ${2 * n}`);
        values.push(rate);
      }
      emit('W6-lock', `mp-${method}`, 'incr/s', values, {
        check,
        note: `Value('i') + getLock() (RLock), acquireSync / v.value += 1 / release; 2 × ${n.toLocaleString('en')} increments${method === 'process' ? ' (each lock op and .value access is a broker round trip)' : ''}`,
      });
      if (method === 'thread') await warmRows(ctx);
    } catch (e) {
      process.stderr.write(`${method} context failed: ${e?.stack ?? e}\n`);
      process.exitCode = 1;
    }
  }
}
