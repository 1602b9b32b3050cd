// Example: what happens to errors — uncaught in a worker, bad arguments, and functions that cannot travel.
import * as mp from 'multiprocessing-ts';

export function fails(): void {
  throw new RangeError('out of range in the worker');
}

function makeClosure(secret: number) {
  return () => secret; // captures a local variable: it cannot travel to a worker
}

if (mp.isMainProcess()) {
  const p = new mp.Process({ target: fails, name: 'Failing' });
  p.start(); // the worker prints "Process Failing:" and the stack to stderr
  await p.join();
  console.log(`exit code after an uncaught error: ${p.exitCode}`);

  try {
    new mp.Process({ target: (_f: unknown) => 0, args: [() => 1] }).start();
  } catch (error) {
    console.log(`${(error as Error).name}: ${(error as Error).message.split(':')[0]}`);
  }
  try {
    // Built-ins such as Math.max travel by name; a native method that needs `this` cannot.
    new mp.Process({ target: String.prototype.trim }).start();
  } catch (error) {
    console.log(`${(error as Error).name} for a native function`);
  }
  const q = new mp.Process({ target: makeClosure(42) });
  q.start(); // PicklingError in the worker, naming `secret` and the fixes
  await q.join();
  console.log(`closure exit code: ${q.exitCode}`);
}
