// Example: a TypeScript function imported from another module runs in workers, no worker file needed.
import * as mp from 'multiprocessing-ts';
import { fib } from './lib/math.ts';

export function printFib(n: number): void {
  console.log(`fib(${n}) = ${fib(n)} in ${mp.currentProcess().name}`);
}

if (mp.isMainProcess()) {
  for (const method of ['thread', 'process'] as const) {
    const ctx = mp.getContext(method);
    const p = new ctx.Process({ target: printFib, args: [20] });
    p.start();
    await p.join();
  }
  // An explicit reference works too (for bundled code):
  const r = new mp.Process({
    target: mp.ref(new URL('./lib/math.ts', import.meta.url), 'logFib'),
    args: [10],
  });
  r.start();
  await r.join();
}
