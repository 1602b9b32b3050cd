// W7 (DESIGN §10): sum 32 Float64Arrays of 1,000,000 elements (8 MB each, 256 MB) through Pool.map.
// Rows: 'W7-copy' (structured clone), 'W7-transfer' (mp.transfer(), fresh arrays per repetition,
// built untimed), 'W7-shared' (one RawArray('d', 32 M) filled once; each task gets the array and
// an index range: zero copy in the thread context), 'W7-shm' (the same over a SharedMemory).
// MB/s = 256 / time, summing included, as the peers measure.
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
const makeArrays = () => Array.from({ length: ARRAYS }, () => fill(new Float64Array(LEN)));

/** The task of the copy and transfer rows. */
export function sumF64(a) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** The task of the shared row: sum elements [start, end) of a shared Float64Array. */
export function sumRange(a, start, end) {
  let s = 0;
  for (let i = start; i < end; i++) s += a[i];
  return s;
}

/** The task of the SharedMemory row: the same over the block's bytes. */
export function sumShm(shm, start, end) {
  const buf = shm.buf;
  if (buf instanceof Uint8Array)
    return sumRange(new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8), start, end);
  return sumRange(
    new Float64Array(new Uint8Array(buf.slice(start * 8, end * 8)).buffer),
    0,
    end - start,
  );
}

async function timed(check, fn) {
  const t0 = now();
  const res = await fn();
  const dt = (now() - t0) / 1000;
  return {
    rate: MB / dt,
    ok: res.length === ARRAYS && res.every((s) => s === EXPECTED) && check(),
  };
}

async function run(method) {
  const ctx = mp.getContext(method);
  const pool = new ctx.Pool(WORKERS);
  try {
    await pool.map(sumF64, [new Float64Array(1), new Float64Array(1)]); // warm-up
    const notes = {
      'W7-copy': 'pool.map(sumF64, arrays, 1): structured clone',
      'W7-transfer': `pool.map(sumF64, arrays.map(mp.transfer), 1)${method === 'process' ? ' (across processes a transfer is a copy)' : ''}`,
      'W7-shared':
        "one RawArray('d', 32e6); pool.starmap(sumRange, [[arr, start, end]…], 1): zero copy",
      'W7-shm': 'one SharedMemory of 256 MB; tasks view it as a Float64Array: zero copy',
    };
    const report = (row, results) => {
      const bad = results.some((x) => !x.ok);
      emit(
        row,
        `mp-${method}`,
        'MB/s',
        results.map((x) => x.rate),
        {
          check: bad ? fail(`${row} ${method}: wrong sums or buffers not moved`) : 'ok',
          note: notes[row],
        },
      );
    };
    const copy = makeArrays();
    const copied = [];
    for (let r = 0; r < REPS; r++)
      copied.push(
        await timed(
          () => true,
          () => pool.map(sumF64, copy, 1),
        ),
      );
    report('W7-copy', copied);
    const moved = [];
    for (let r = 0; r < REPS; r++) {
      const arrays = makeArrays();
      const detached = () => method !== 'thread' || arrays[0].buffer.byteLength === 0;
      moved.push(
        await timed(detached, () =>
          pool.map(
            sumF64,
            arrays.map((a) => mp.transfer(a)),
            1,
          ),
        ),
      );
    }
    report('W7-transfer', moved);
    // Zero copy needs shared memory in the workers: threads only (a child process would reach
    // every element through the broker).
    if (method === 'thread') {
      const shared = ctx.RawArray('d', ARRAYS * LEN);
      for (let k = 0; k < ARRAYS; k++) fill(shared, k * LEN);
      const ranges = Array.from({ length: ARRAYS }, (_, k) => [shared, k * LEN, (k + 1) * LEN]);
      const zero = [];
      for (let r = 0; r < REPS; r++)
        zero.push(
          await timed(
            () => true,
            () => pool.starmap(sumRange, ranges, 1),
          ),
        );
      report('W7-shared', zero);
      const shm = new ctx.SharedMemory({ create: true, size: ARRAYS * LEN * 8 });
      new Float64Array(shm.buf.buffer).set(shared);
      const shmRanges = Array.from({ length: ARRAYS }, (_, k) => [shm, k * LEN, (k + 1) * LEN]);
      const viaShm = [];
      for (let r = 0; r < REPS; r++)
        viaShm.push(
          await timed(
            () => true,
            () => pool.starmap(sumShm, shmRanges, 1),
          ),
        );
      report('W7-shm', viaShm);
      shm.unlink();
    }
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
