// Example: the process context runs targets in child processes: isolation, real pids, signals.
import * as mp from 'multiprocessing-ts';

export function report(label: string): void {
  console.log(
    `${label}: ${mp.currentProcess().name} pid differs from parent: ${process.pid !== mp.parentProcess()?.pid}`,
  );
}

export function crash(): void {
  process.kill(process.pid, 'SIGKILL'); // a crash cannot take the parent down
}

if (mp.isMainProcess()) {
  const ctx = mp.getContext('process');
  const p = new ctx.Process({ target: report, args: ['child'] });
  p.start();
  await p.join();
  const c = new ctx.Process({ target: crash });
  c.start();
  await c.join();
  console.log(`crashed child exit code: ${c.exitCode}`); // -9, Python's convention for SIGKILL
}
