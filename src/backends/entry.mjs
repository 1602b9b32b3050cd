// Plain-JS entry point of every worker: makes TypeScript importable, then starts the worker runtime.
import { isMainThread, workerData } from 'node:worker_threads';
import { ensureTypeScript } from './ts-support.mjs';

// A thread gets its boot record with its workerData (beside its lane, which parent-channel.ts
// reads). A child process asks for it over IPC once its listener is attached, so the record
// cannot arrive before anyone listens.
const boot = isMainThread
  ? await new Promise((resolve) => {
      process.once('message', (msg) => resolve(msg.boot));
      process.send({ t: 'hello' });
    })
  : workerData.boot;
await ensureTypeScript(boot.runtimeUrl);
const { runWorker } = await import(boot.runtimeUrl);
await runWorker(boot);
