// The backend layer: maps a start method to the backend that runs its workers.
import { liveChildren, processBackend } from './process.ts';
import { liveThreads, threadBackend } from './thread.ts';
import type { Backend, LocalMethod } from './types.ts';

/** The backend for `method`. */
export function backendFor(method: LocalMethod): Backend {
  return method === 'process' ? processBackend : threadBackend;
}

/** How many workers started from this thread are still running (both backends). */
export function liveWorkerCount(): number {
  return liveThreads.size + liveChildren.size;
}
