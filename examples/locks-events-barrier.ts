// Example: Lock, Event, Semaphore and Barrier across worker processes, with their async and *Sync forms.
import * as mp from 'multiprocessing-ts';

export async function party(
  barrier: mp.Barrier,
  go: mp.Event,
  slots: mp.Semaphore,
  log: mp.Lock,
): Promise<void> {
  go.waitSync(); // workers may block; the parent uses the async forms
  slots.withLockSync(() => {
    log.withLockSync(() => console.log(`${mp.currentProcess().name} has a slot`));
  });
  await barrier.wait(); // resolves with this party's index, 0..2
}

if (mp.isMainProcess()) {
  const barrier = new mp.Barrier(3, { action: () => console.log('barrier action: all 3 arrived') });
  const go = new mp.Event();
  const slots = new mp.Semaphore(2); // at most two inside at once
  const log = new mp.Lock();
  const ps = [1, 2, 3].map(
    () => new mp.Process({ target: party, args: [barrier, go, slots, log] }),
  );
  for (const p of ps) p.start();
  go.set();
  for (const p of ps) await p.join();
  console.log('all parties passed the barrier; exit codes:', ps.map((p) => p.exitCode).join(' '));

  // Errors are Python's, as error classes with stable codes.
  try {
    log.release();
  } catch (e) {
    console.log('release of an unlocked Lock:', (e as mp.InvalidStateError).code);
  }
  const timed = await log.acquire({ timeout: 10 });
  console.log('acquire({ timeout: 10 }) on a free lock:', timed);
  log.release();
  const lonely = new mp.Barrier(2, { timeout: 20 });
  await lonely.wait().catch((e: Error) => console.log('a barrier nobody joins:', e.name));
}
