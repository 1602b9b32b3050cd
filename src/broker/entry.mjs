// Plain-JS entry of the library's own helper threads (the broker, a child's sync bridge): loads the module named in workerData.
import { workerData } from 'node:worker_threads';
import { ensureTypeScript } from '../backends/ts-support.mjs';

try {
  await ensureTypeScript(workerData.moduleUrl);
  const { main } = await import(workerData.moduleUrl);
  await main(workerData);
} catch (error) {
  // A sync bridge's caller is blocked and cannot see an 'error' event: until the helper runs,
  // it looks at the port now and then, and finds this there.
  if (workerData.port && workerData.flag) {
    const message = `the sync bridge thread failed to start: ${error?.message ?? error}`;
    workerData.port.postMessage({
      gone: { name: 'Error', message, stack: error?.stack ?? message, props: {} },
    });
  }
  throw error;
}
