// Example: a ShareableList shared with workers, written in place and attached by name.
import * as mp from 'multiprocessing-ts';

export function normalise(sl: mp.ShareableList): void {
  for (let i = 0; i < sl.length; i++) {
    const item = sl[i];
    if (typeof item === 'string') sl[i] = item.trim().toLowerCase();
  }
}

export function stamp(name: string): void {
  const sl = new mp.ShareableList(null, { name }); // attach by name
  sl[sl.length - 1] = `done by ${mp.currentProcess().name}`;
}

if (mp.isMainProcess()) {
  const sl = new mp.ShareableList(['  Alpha', 'BETA ', 42, true, '.'.repeat(24)]);
  const p = new mp.Process({ target: normalise, args: [sl] });
  p.start();
  await p.join();
  const q = new mp.Process({ target: stamp, args: [sl.shm.name] });
  q.start();
  await q.join();
  console.log(sl.toArray());
  console.log(`format ${sl.format}`);
  sl.shm.unlink();
}
