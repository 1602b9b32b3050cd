// Measures cross-process futex round trips over the native addon (run `npm run build` first).
//
//   node bench/native-futex.mjs [rounds]
//
// A forked child and this process bounce a turn word in a shared segment: each round the parent
// passes the turn (store + futexWake) and sleeps until it comes back, with a blocking wait, then
// with an async wait (the addon's waiter threads). The child always answers with blocking waits.
import { fork } from 'node:child_process';
import { loadShmAddon, shmUnavailableReason } from '../dist/native/shm-addon.js';

const shm = loadShmAddon();
if (!shm) throw new Error(`native addon unavailable: ${shmUnavailableReason()}`);
const kTurn = 0; // 0: the parent's turn, 1: the child's, -1: stop

if (process.argv[2] === 'child') {
  process.once('message', ({ fd }) => {
    const mine = shm.openRemoteFd(process.ppid, fd);
    const i32 = new Int32Array(shm.mapSegment(mine, 0, 4096));
    shm.closeFd(mine);
    process.send('mapped');
    for (;;) {
      let turn;
      while ((turn = Atomics.load(i32, kTurn)) === 0) shm.futexWait(i32, kTurn, 0);
      if (turn < 0) break;
      Atomics.store(i32, kTurn, 0);
      shm.futexWake(i32, kTurn);
    }
    process.exit(0);
  });
} else {
  const rounds = Number(process.argv[2] ?? 20_000);
  const fd = shm.createSegmentFd(4096);
  const i32 = new Int32Array(shm.mapSegment(fd, 0, 4096));
  const child = fork(new URL(import.meta.url).pathname, ['child']);
  child.send({ fd });
  await new Promise((resolve) => child.once('message', resolve));
  shm.closeFd(fd);

  const pass = () => {
    Atomics.store(i32, kTurn, 1);
    shm.futexWake(i32, kTurn);
  };
  const measure = async (label, wait) => {
    const start = performance.now();
    for (let k = 0; k < rounds; k++) {
      pass();
      while (Atomics.load(i32, kTurn) === 1) await wait();
    }
    const us = ((performance.now() - start) * 1000) / rounds;
    console.log(`${label.padEnd(40)} ${us.toFixed(1).padStart(8)} µs/round trip`);
  };
  await measure('blocking futexWait', () => shm.futexWait(i32, kTurn, 1));
  await measure('futexWaitAsync (addon waiter thread)', () => shm.futexWaitAsync(i32, kTurn, 1));
  Atomics.store(i32, kTurn, -1);
  shm.futexWake(i32, kTurn);
  await new Promise((resolve) => child.once('exit', resolve));
}
