// W5-sync: 10,000 Pipe round trips where the parent blocks in recvSync() (the echo Process as in W5).
// Same method as bench/w5_pipe.mjs (echo started once, 200 untimed round trips, REPS timed runs of
// 10,000); only the parent's receive differs: `conn.send(i); conn.recvSync()` instead of `await recv()`.
// The note names the context's shared memory mode ('mapped' or 'broker' for the process context).
import * as mp from '../dist/index.js';
import { METHODS, REPS, emit, fail } from './lib/common.mjs';

const N = 10_000;
const WARMUP = 200;

/** The echo (as in bench/w5_pipe.mjs): recvSync/send until EOF. */
export function echo(conn) {
  for (;;) {
    let m;
    try {
      m = conn.recvSync();
    } catch (e) {
      if (e instanceof mp.EOFError) return;
      throw e;
    }
    conn.send(m);
  }
}

function pingpongSync(conn, n) {
  let bad = 0;
  for (let i = 0; i < n; i++) {
    conn.send(i);
    if (conn.recvSync() !== i) bad++;
  }
  return bad;
}

async function run(method) {
  const ctx = mp.getContext(method);
  const [parent, child] = ctx.Pipe();
  const p = new ctx.Process({ target: echo, args: [child] });
  p.start();
  child.close();
  // The child starts with the parent's event loop running (its arguments arrive that way), so the
  // first round trip is awaited; then the untimed warm-up, blocking as the timed runs.
  parent.send(-1);
  if ((await parent.recv()) !== -1) throw new Error('W5-sync: bad first echo');
  pingpongSync(parent, WARMUP);
  const values = [];
  let check = 'ok';
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    const bad = pingpongSync(parent, N);
    const dt = performance.now() - t0;
    if (bad) check = fail(`W5-sync ${method}: ${bad} wrong echoes`);
    values.push((dt / N) * 1000);
  }
  parent.close();
  await p.join();
  emit('W5-sync', `mp-${method}`, 'us', values, {
    check,
    note: `Pipe: parent send + recvSync(), echo Process recvSync/send; memory ${ctx.sharedMemory ?? 'broker'}`,
  });
}

if (mp.isMainProcess()) {
  for (const method of METHODS)
    try {
      await run(method);
    } catch (e) {
      process.stderr.write(`${method} context failed: ${e?.stack ?? e}\n`);
      process.exitCode = 1;
    }
}
