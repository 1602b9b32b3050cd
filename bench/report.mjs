// Prints the benchmark table from a RESULT jsonl file: one row per workload cell, our medians,
// each peer's median, and the ratio of our thread context to the best peer.
//   node bench/report.mjs [bench/results/latest.jsonl]
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? new URL('./results/latest.jsonl', import.meta.url).pathname;
const results = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line));

// [row id, label, which way is better]; rows not listed are shown after these, as 'higher'.
const kRows = [
  ['W1-default', 'W1 map x*x, 100k ints, default chunking (items/s)', 'higher'],
  ['W1-chunk', 'W1 map x*x, 1,000 items per task (items/s)', 'higher'],
  ['W1-item', 'W1 Python chunksize=1 (items/s)', 'higher'],
  ['W2-eff', 'W2 cpu-map efficiency, 2 workers (%)', 'higher'],
  ['W2-speedup', 'W2 cpu-map speedup (×)', 'higher'],
  ['W2-serial', 'W2 serial time (ms)', 'lower'],
  ['W2-parallel', 'W2 parallel time (ms)', 'lower'],
  ['W3-fork', "W3 start+join, Python 'fork' (ms)", 'lower'],
  ['W3-fresh', 'W3 start+join, fresh worker (ms)', 'lower'],
  ['W3-module', 'W3 start+join, target from a module (ms)', 'lower'],
  ['W4', 'W4 queue, 100k ints worker→parent (msgs/s)', 'higher'],
  ['W5', 'W5 ping-pong (µs/round trip)', 'lower'],
  ['W6-lock', 'W6 counter under a lock (incr/s)', 'higher'],
  ['W6-warm', 'W6 the same, 2 × 500,000 increments (incr/s)', 'higher'],
  ['W7-copy', 'W7 big payload, copied (MB/s)', 'higher'],
  ['W7-transfer', 'W7 big payload, transferred (MB/s)', 'higher'],
  ['W8', 'W8 apply latency, 5,000 sequential calls (µs/call)', 'lower'],
];
const known = new Map(kRows.map(([id, label, better]) => [id, { label, better }]));
const kOurs = ['mp-thread', 'mp-process'];
const kPeers = ['python', 'piscina', 'tinypool', 'workerpool', 'node-worker', 'node-cp'];
const lowerUnits = new Set(['ms', 'us', 'µs']);

function fmt(v, unit) {
  if (v === undefined) return '—';
  if (unit === 'x') return v.toFixed(2) + '×';
  if (unit === '%') return v.toFixed(1) + '%';
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(2) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

const byRow = new Map();
for (const r of results) {
  if (!byRow.has(r.row)) byRow.set(r.row, new Map());
  byRow.get(r.row).set(r.peer, r);
}
const rowIds = [
  ...kRows.map(([id]) => id).filter((id) => byRow.has(id)),
  ...[...byRow.keys()].filter((id) => !known.has(id)).sort(),
];
const extraPeers = [...new Set(results.map((r) => r.peer))].filter(
  (p) => !kOurs.includes(p) && !kPeers.includes(p),
);
const peers = [...kPeers.filter((p) => results.some((r) => r.peer === p)), ...extraPeers];
const header = ['workload', ...kOurs, ...peers, 'mp-thread ÷ best peer', 'mp-process ÷ best peer'];
const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
for (const id of rowIds) {
  const cells = byRow.get(id);
  const any = [...cells.values()][0];
  const better = known.get(id)?.better ?? (lowerUnits.has(any.unit) ? 'lower' : 'higher');
  const show = (p) => {
    const r = cells.get(p);
    if (!r) return '—';
    return fmt(r.median, r.unit) + (r.check === 'ok' ? '' : ' ✗CHECK');
  };
  const peerMedians = peers.map((p) => cells.get(p)?.median).filter((v) => v !== undefined);
  const best = peerMedians.length
    ? better === 'higher'
      ? Math.max(...peerMedians)
      : Math.min(...peerMedians)
    : undefined;
  // A ratio above 1 means we are better than the best peer, whichever way the unit goes.
  const ratio = (p) => {
    const v = cells.get(p)?.median;
    if (v === undefined || best === undefined || best === 0 || v === 0) return '—';
    return (better === 'higher' ? v / best : best / v).toFixed(2) + '×';
  };
  const label = known.get(id)?.label ?? `${id} (${any.unit})`;
  lines.push(
    `| ${[label, ...kOurs.map(show), ...peers.map(show), ratio('mp-thread'), ratio('mp-process')].join(' | ')} |`,
  );
}
console.log(
  `Medians of ${process.env.REPS ?? 3} repetitions; ratio > 1 = better than the best peer.\n`,
);
console.log(lines.join('\n'));
