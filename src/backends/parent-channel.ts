// The worker's side of the channel to its parent: a thread's port (with its lane, if any), or a child process's IPC.
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { kAnotherProcess, kThisProcess } from '../reduction/values.ts';
import { type LaneWire, serveLane } from './thread-lane.ts';
import type { Message, ParentChannel, Transferable } from './types.ts';

// Kept apart from the spawning side (backends/index.ts) so that a worker's start-up does not
// load child_process, the broker and the rest of what only a parent needs.

/**
 * What a thread worker gets as its workerData from the thread backend.
 * @example
 * new Worker(kEntryUrl, { workerData: { boot, lane: null } satisfies ThreadWorkerData })
 */
export interface ThreadWorkerData {
  /** The boot record, handed to the runtime (see runtime/protocol.ts). */
  readonly boot: unknown;
  /** The worker's fast path, when it was spawned with one. */
  readonly lane: LaneWire | null;
}

function ipcChannel(): ParentChannel {
  const post = (msg: Message) => void process.send!(msg);
  return {
    // A child process shares nothing with its parent: values travel as handles and copies.
    destination: kAnotherProcess,
    // It writes to the inherited descriptors directly, synchronously.
    forwardsOutput: false,
    post,
    answer: post,
    onMessage: (listener) => process.on('message', listener as (m: unknown) => void),
    serve: (handle) => {
      process.on('message', handle as (m: unknown) => void);
      return () => {};
    },
    onDisconnect: (listener) => process.on('disconnect', listener),
    unref: () => (process.channel as { unref?: () => void } | undefined)?.unref?.(),
  };
}

function threadChannel(port: MessagePort): ParentChannel {
  const lane = (workerData as ThreadWorkerData | undefined)?.lane ?? null;
  const post = (msg: Message, transfer?: Transferable[]) =>
    port.postMessage(msg, transfer as never[]);
  const answers = lane?.answers;
  return {
    // A thread's parent shares its memory, and messages can move buffers.
    destination: kThisProcess,
    // A thread's console output travels to the parent on a stream of its own.
    forwardsOutput: true,
    post,
    // The parent reads this port without waiting for its event loop (see answer-poller.ts).
    answer: answers ? (msg, transfer) => answers.postMessage(msg, transfer as never[]) : post,
    onMessage: (listener) => port.on('message', listener),
    serve: (handle) => {
      if (lane) return serveLane(lane, port, handle);
      port.on('message', handle);
      return () => {};
    },
    // A thread cannot outlive its parent.
    onDisconnect: () => {},
    unref: () => port.unref(),
  };
}

let channel: ParentChannel | null = null;

/**
 * The channel from this worker to its parent (a child process's main thread uses IPC), created
 * on first use. Only a worker started by this library has one.
 * @example
 * parentChannel().post({ t: 'ready' })
 */
export function parentChannel(): ParentChannel {
  if (channel) return channel;
  if (isMainThread) {
    if (!process.send) throw new Error('assertion failed: this process has no parent channel');
    return (channel = ipcChannel());
  }
  return (channel = threadChannel(parentPort!));
}
