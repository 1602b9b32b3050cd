// Plain-JS entry of the library's own helper threads (the broker, a child's sync bridge): loads the module named in workerData.
import { workerData } from 'node:worker_threads';
import { ensureTypeScript } from '../backends/ts-support.mjs';

try {
  await ensureTypeScript(workerData.moduleUrl);
  const { main } = await import(workerData.moduleUrl);
  await main(workerData);
} catch (error) {
  // A sync bridge's caller sleeps in Atomics.wait and cannot see an 'error' event: wake it.
  if (workerData.port && workerData.flag) {
    const message = `the sync bridge thread failed to start: ${error?.message ?? error}`;
    workerData.port.postMessage({
      gone: { name: 'Error', message, stack: error?.stack ?? message, props: {} },
    });
    const flag = new Int32Array(workerData.flag);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  }
  throw error;
}
