// Shared helpers of our benchmark scripts: the peers' RESULT line format, repetitions and timers.
// Every script prints one line per measured cell:  RESULT {"row":...,"peer":...,...}
// (same fields as /work/shared/bench/peers/lib/common.mjs, so one report reads both).
import { performance } from 'node:perf_hooks';

/** Timed repetitions per cell (the peers use 3); a warm-up before them is never timed. */
export const REPS = Number(process.env.REPS ?? 3);
/** Every pool has exactly 2 workers, as the peers' pools do. */
export const WORKERS = 2;
/** Our contexts; each script reports one column per context: `mp-thread`, `mp-process`. */
export const METHODS = (process.env.MP_METHODS ?? 'thread,process').split(',');

/** Milliseconds, high resolution. */
export const now = () => performance.now();

/** The median of `xs`. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Prints one RESULT line: `row` = the peers' row id (W1-default…), `peer` = our column (mp-thread…). */
export function emit(row, peer, unit, values, { check = 'ok', note = '', extra = {} } = {}) {
  const out = {
    row,
    peer,
    unit,
    values,
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    check,
    note,
    ...extra,
  };
  process.stdout.write('RESULT ' + JSON.stringify(out) + '\n');
}

/** Reports a failed correctness check (stderr) and returns the check text for emit(). */
export function fail(msg) {
  process.stderr.write('CHECK FAILED: ' + msg + '\n');
  return 'FAIL: ' + msg;
}

/** `[0, 1, …, n − 1]`. */
export const range = (n) => Array.from({ length: n }, (_, i) => i);
