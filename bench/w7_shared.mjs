// W7-shared / W7-shm in every context: the zero-copy rows of bench/w7_payload.mjs, which runs them
// in the thread context only. With mapped memory a process pool's workers map the same shared
// array, so the rows are measured there too. Same sizes and method: one shared Float64Array of 32 M
// filled once (untimed), 32 tasks of 1,000,000 elements through pool.starmap(…, 1); MB/s = 256 /
// time, summing included. The thread context shares a RawArray('d', …) as w7_payload.mjs does; a
// child process receives a RawArray as a copy, so the process context shares Array('d', …,
// { lock: false }), the array that travels shared to child processes. Each task checks that it sees
// a direct view of shared memory (a SharedArrayBuffer behind the array): a copy or a proxy makes
// the task return NaN and the row fail; W7-shm is skipped (stderr) when the first task sees none.
import * as mp from '../dist/index.js';
import { METHODS, REPS, WORKERS, emit, fail, now } from './lib/common.mjs';

const ARRAYS = 32;
const LEN = 1_000_000;
const MB = (ARRAYS * LEN * 8) / 1e6;
const EXPECTED = 499_500_000;

function fill(a, offset = 0) {
  for (let j = 0; j < LEN; j++) a[offset + j] = j % 1000;
  return a;
}

/** Whether `a` is a typed array over shared memory (no copy). */
function direct(a) {
  return ArrayBuffer.isView(a) && a.buffer instanceof SharedArrayBuffer;
}

/** Sums elements [start, end) of a shared Float64Array; NaN when the array is not a direct view. */
export function sumRange(a, start, end) {
  if (!direct(a)) return NaN;
  let s = 0;
  for (let i = start; i < end; i++) s += a[i];
  return s;
}

/** The same over a SharedMemory block's bytes; NaN when `shm.buf` is not a direct view. */
export function sumShm(shm, start, end) {
  const buf = shm.buf;
  if (!direct(buf)) return NaN;
  const f64 = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
  let s = 0;
  for (let i = start; i < end; i++) s += f64[i];
  return s;
}

async function timed(fn) {
  const t0 = now();
  const res = await fn();
  const dt = (now() - t0) / 1000;
  return { rate: MB / dt, ok: res.length === ARRAYS && res.every((s) => s === EXPECTED) };
}

async function run(method) {
  const ctx = mp.getContext(method);
  const memory = ctx.sharedMemory ?? 'broker';
  if (method === 'process' && memory === 'broker') {
    process.stderr.write('W7-shared: process context skipped (broker memory)\n');
    return;
  }
  const pool = new ctx.Pool(WORKERS);
  try {
    const report = (row, results, note) => {
      const bad = results.some((x) => !x.ok);
      emit(
        row,
        `mp-${method}`,
        'MB/s',
        results.map((x) => x.rate),
        { check: bad ? fail(`${row} ${method}: wrong sums or not zero copy`) : 'ok', note },
      );
    };
    const shared =
      method === 'thread'
        ? ctx.RawArray('d', ARRAYS * LEN)
        : ctx.Array('d', ARRAYS * LEN, { lock: false });
    for (let k = 0; k < ARRAYS; k++) fill(shared, k * LEN);
    const ranges = Array.from({ length: ARRAYS }, (_, k) => [shared, k * LEN, (k + 1) * LEN]);
    await pool.starmap(sumRange, ranges.slice(0, 2), 1); // warm-up: workers up, array mapped
    const zero = [];
    for (let r = 0; r < REPS; r++) zero.push(await timed(() => pool.starmap(sumRange, ranges, 1)));
    report(
      'W7-shared',
      zero,
      `one ${method === 'thread' ? "RawArray('d', 32e6)" : "Array('d', 32e6, { lock: false })"}; pool.starmap(sumRange, [[arr, start, end]…], 1): zero copy; memory ${memory}`,
    );
    const shm = new ctx.SharedMemory({ create: true, size: ARRAYS * LEN * 8 });
    const view = new Float64Array(shm.buf.buffer, shm.buf.byteOffset, ARRAYS * LEN);
    view.set(shared);
    const shmRanges = Array.from({ length: ARRAYS }, (_, k) => [shm, k * LEN, (k + 1) * LEN]);
    const first = await pool.starmap(sumShm, shmRanges.slice(0, 2), 1); // warm-up
    if (!first.every((x) => x === EXPECTED)) {
      process.stderr.write(
        `W7-shm ${method}: a worker's shm.buf is not a view of shared memory; row skipped\n`,
      );
      shm.close();
      shm.unlink();
      return;
    }
    const viaShm = [];
    for (let r = 0; r < REPS; r++)
      viaShm.push(await timed(() => pool.starmap(sumShm, shmRanges, 1)));
    report(
      'W7-shm',
      viaShm,
      `one SharedMemory of 256 MB; tasks view it as a Float64Array: zero copy; memory ${memory}`,
    );
    shm.close();
    shm.unlink();
  } finally {
    await pool.terminate();
  }
}

if (mp.isMainProcess()) {
  for (const method of METHODS) {
    try {
      await run(method);
    } catch (e) {
      process.stderr.write(`${method} context failed: ${e?.stack ?? e}\n`);
      process.exitCode = 1;
    }
  }
}
