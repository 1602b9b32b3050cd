// Example: the library logger with process names, inherited by workers.
import * as mp from 'multiprocessing-ts';

export function work(): void {
  mp.getLogger().info('working');
}

if (mp.isMainProcess()) {
  mp.logToStderr('INFO');
  mp.getLogger().info('starting a worker');
  const p = new mp.Process({ target: work, name: 'Worker-A' });
  p.start();
  await p.join();
  mp.getLogger().info(`worker exit code ${p.exitCode}`);
}
