// The thread backend: workers are worker_threads of this process.
import { Worker } from 'node:worker_threads';
import type { Backend, FromWorker, ToWorker, Transferable } from './types.ts';
import { kEntryUrl } from './urls.ts';
import { HoldingLedger } from '../runtime/holdings.ts';

/** Workers of this thread that have not exited yet (tests check none are left behind). */
export const liveThreads = new Set<Worker>();

/** Runs workers as `worker_threads` Workers sharing this process's memory. */
export const threadBackend: Backend = {
  method: 'thread',
  spawn(options, events) {
    const worker = new Worker(kEntryUrl, {
      workerData: options.boot,
      transferList: options.transfer as never[],
      name: options.name,
      ...(options.env ? { env: options.env } : {}),
      ...(options.execArgv ? { execArgv: [...options.execArgv] } : {}),
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
    });
    // A thread has no signals: remember which stop was asked for, to report −15 or −9 as Python does.
    liveThreads.add(worker);
    let requested: number | null = null;
    let exited = false;
    const ledger = new HoldingLedger();
    let crashed = false;
    worker.on('message', (msg: FromWorker) => {
      if (!ledger.record(msg)) events.message(msg);
    });
    worker.on('error', (err) => {
      // The runtime catches the target's errors itself; this is a failure of the runtime or an
      // out-of-memory stop. Report it the way an uncaught error in a process would look.
      crashed = true;
      process.stderr.write(`Process ${options.name}:\n${err?.stack ?? err}\n`);
    });
    worker.on('exit', (code) => {
      exited = true;
      liveThreads.delete(worker);
      // A thread that exits normally released its holdings in its exit hook; one that was
      // stopped or crashed could not.
      if (requested !== null || crashed) ledger.releaseAll();
      events.exit(
        requested ?? code,
        requested === -9 ? 'SIGKILL' : requested === -15 ? 'SIGTERM' : null,
      );
    });
    const stop = (code: number) => {
      if (exited || requested !== null) return;
      requested = code;
      void worker.terminate();
    };
    return {
      pid: process.pid,
      ident: worker.threadId,
      post: (msg: ToWorker, transfer?: Transferable[]) =>
        worker.postMessage(msg, transfer as never[]),
      terminate: () => stop(-15),
      kill: () => stop(-9),
      ref: () => worker.ref(),
      unref: () => worker.unref(),
    };
  },
};
