// Example: a named SharedMemory block: created here, attached by name in a worker, unlinked at the end.
import * as mp from 'multiprocessing-ts';

export function shout(name: string): void {
  const shm = new mp.SharedMemory({ name }); // attach by name, from any worker of the program
  // slice() copies into a real Uint8Array (in a child process, buf is an index-compatible proxy).
  const text = new TextDecoder().decode(shm.buf!.slice(0, 5));
  const upper = new TextEncoder().encode(text.toUpperCase());
  for (let i = 0; i < upper.length; i++) shm.buf![i] = upper[i]!;
  shm.close();
}

if (mp.isMainProcess()) {
  const shm = new mp.SharedMemory({ create: true, size: 16 });
  shm.buf!.set(new TextEncoder().encode('hello'));
  for (const method of ['thread', 'process'] as const) {
    const p = new (mp.getContext(method).Process)({ target: shout, args: [shm.name] });
    p.start();
    await p.join();
    console.log(`${method}:`, new TextDecoder().decode(shm.buf!.subarray(0, 5)));
    shm.buf!.set(new TextEncoder().encode('hello'));
  }
  shm.unlink();
  try {
    new mp.SharedMemory({ name: shm.name });
  } catch (e) {
    console.log('after unlink:', (e as Error).name);
  }
}
