// W5 (DESIGN §10): 10,000 round trips over a Pipe: the parent send + await recv(), an echo Process with recvSync/send.
import * as mp from '../dist/index.js';
import { REPS, emit } from './lib/common.mjs';

const N = 10_000;
const WARMUP = 200;

/** The echo: recvSync/send until EOF. */
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

async function pingpong(conn, n) {
  let bad = 0;
  for (let i = 0; i < n; i++) {
    conn.send(i);
    if ((await conn.recv()) !== i) bad++;
  }
  return bad;
}

async function run(method) {
  const ctx = mp.getContext(method);
  const [parent, child] = ctx.Pipe();
  const p = new ctx.Process({ target: echo, args: [child] });
  p.start();
  child.close();
  await pingpong(parent, WARMUP);
  const values = [];
  let check = 'ok';
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    const bad = await pingpong(parent, N);
    const dt = performance.now() - t0;
    if (bad) check = `FAIL: ${bad} wrong echoes`;
    values.push((dt / N) * 1000);
  }
  parent.close();
  await p.join();
  emit('W5', `mp-${method}`, 'us', values, {
    check: check,
    note: 'Pipe: parent send + await recv(), echo Process recvSync/send',
  });
}

if (mp.isMainProcess()) {
  for (const method of ['thread', 'process'])
    try {
      await run(method);
    } catch (e) {
      process.stderr.write(`${method} context failed: ${e?.stack ?? e}\n`);
      process.exitCode = 1;
    }
}
