// The backend layer: maps a start method to the backend that runs its workers.
import { liveChildren, processBackend, processParentChannel } from './process.ts';
import { liveThreads, threadBackend, threadParentChannel } from './thread.ts';
import type { Backend, LocalMethod, ParentChannel } from './types.ts';
import { isMainThread } from 'node:worker_threads';

/** The backend for `method`. */
export function backendFor(method: LocalMethod): Backend {
  return method === 'process' ? processBackend : threadBackend;
}

/** How many workers started from this thread are still running (both backends). */
export function liveWorkerCount(): number {
  return liveThreads.size + liveChildren.size;
}

/** The channel from this worker to its parent (a child process's main thread uses IPC). */
export function parentChannel(): ParentChannel {
  return isMainThread ? processParentChannel() : threadParentChannel();
}
