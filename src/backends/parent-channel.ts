// The worker's side of the channel to its parent: a thread's port, or a child process's IPC.
import { isMainThread, parentPort } from 'node:worker_threads';
import type { ParentChannel } from './types.ts';

// Kept apart from the spawning side (backends/index.ts) so that a worker's start-up does not
// load child_process, the broker and the rest of what only a parent needs.

/** The channel from this worker to its parent (a child process's main thread uses IPC). */
export function parentChannel(): ParentChannel {
  if (isMainThread) {
    return {
      post: (msg) => void process.send!(msg),
      onMessage: (listener) => process.on('message', listener as (m: unknown) => void),
      unref: () => (process.channel as { unref?: () => void } | undefined)?.unref?.(),
    };
  }
  const port = parentPort!;
  return {
    post: (msg, transfer) => port.postMessage(msg, transfer as never[]),
    onMessage: (listener) => port.on('message', listener),
    unref: () => port.unref(),
  };
}
