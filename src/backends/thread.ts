// The thread backend: workers are worker_threads of this process.
import { Worker } from 'node:worker_threads';
import { drainAnswers, kPollMs, watchAnswers } from './answer-poller.ts';
import type { ThreadWorkerData } from './parent-channel.ts';
import { ParentLane } from './thread-lane.ts';
import type {
  Backend,
  Message,
  SpawnOptions,
  Transferable,
  WorkerEvents,
  WorkerHandle,
} from './types.ts';
import { kEntryUrl } from './urls.ts';
import { HoldingLedger } from '../runtime/holdings.ts';

/** Workers of this thread that have not exited yet (tests check none are left behind). */
export const liveThreads = new Set<Worker>();

/** Runs workers as `worker_threads` Workers sharing this process's memory. */
export const threadBackend: Backend = {
  method: 'thread',
  spawn<In extends Message, Out extends Message>(
    options: SpawnOptions,
    events: WorkerEvents<In>,
  ): WorkerHandle<Out> {
    // A worker of many short tasks gets a lane: a doorbell and a port for its answers.
    const lane = options.fastPath ? new ParentLane() : null;
    let worker: Worker;
    try {
      worker = new Worker(kEntryUrl, {
        workerData: { boot: options.boot, lane: lane?.wire ?? null } satisfies ThreadWorkerData,
        transferList: (lane
          ? [...options.transfer, lane.wire.answers]
          : options.transfer) as never[],
        name: options.name,
        ...(options.env ? { env: options.env } : {}),
        ...(options.execArgv ? { execArgv: [...options.execArgv] } : {}),
        ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      });
    } catch (error) {
      lane?.close();
      throw error;
    }
    // A thread has no signals: remember which stop was asked for, to report −15 or −9 as Python does.
    liveThreads.add(worker);
    let requested: number | null = null;
    let exited = false;
    const ledger = new HoldingLedger();
    let crashed = false;
    const receive = (msg: unknown) => {
      if (!ledger.record(msg as Message)) events.message(msg as In);
    };
    worker.on('message', receive);
    if (lane) {
      lane.answers.on('message', receive);
      // The worker's own handle decides whether it keeps the program alive.
      lane.answers.unref();
    }
    worker.on('error', (err) => {
      // The runtime catches the target's errors itself; this is a failure of the runtime or an
      // out-of-memory stop. Report it the way an uncaught error in a process would look.
      crashed = true;
      process.stderr.write(`Process ${options.name}:\n${err?.stack ?? err}\n`);
    });
    worker.on('exit', (code) => {
      exited = true;
      liveThreads.delete(worker);
      if (lane) {
        // An answer posted just before the exit must count before the exit does.
        drainAnswers(lane.answers, receive);
        lane.close();
      }
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
      post: lane
        ? (msg: Out, transfer?: Transferable[]) => {
            worker.postMessage(msg, transfer as never[]);
            lane.ring();
          }
        : (msg: Out, transfer?: Transferable[]) => worker.postMessage(msg, transfer as never[]),
      terminate: () => stop(-15),
      kill: () => stop(-9),
      ref: () => worker.ref(),
      unref: () => worker.unref(),
      fastPath: lane
        ? { watchMs: kPollMs, watch: (answered) => watchAnswers(lane.answers, receive, answered) }
        : undefined,
    };
  },
};
