// The backend layer: registers every start method with its capabilities and counts the workers they run.
import { liveChildren, processBackend } from './process.ts';
import { backendEntry, registerBackend } from './registry.ts';
import type { Backend } from './types.ts';
import { liveThreads, threadBackend } from './thread.ts';
import { brokerCores, localCores, mappedAvailable, mappedCores } from '../shared/providers.ts';

export {
  backendEntry,
  capabilitiesOf,
  checkMethod,
  methodOfContext,
  registeredMethods,
} from './registry.ts';
export type { BackendEntry, Capabilities } from './registry.ts';

// The first registered method is the default one.
registerBackend({
  method: 'thread',
  capabilities: {
    sharesMemory: true,
    sameHost: true,
    canTransfer: true,
    syncCalls: true,
    ownProcess: false,
  },
  backend: threadBackend,
  // Threads share this process's memory: primitives are plain SharedArrayBuffers.
  cores: () => localCores,
});
registerBackend({
  method: 'process',
  capabilities: {
    sharesMemory: false,
    sameHost: true,
    canTransfer: false,
    // On mapped memory a child's *Sync calls run in the child; through the broker each one is a
    // round trip. Asked on first use, when the memory is chosen.
    get syncCalls() {
      return mappedAvailable();
    },
    ownProcess: true,
  },
  backend: processBackend,
  // Children map the same OS shared memory where the native addon works (decided once, at
  // first use); elsewhere they reach this process's buffers through the broker thread.
  cores: () => (mappedAvailable() ? mappedCores : brokerCores),
});

/** How many workers started from this thread are still running (every backend). */
export function liveWorkerCount(): number {
  return liveThreads.size + liveChildren.size;
}

/** The backend that starts `method`'s workers. */
export function backendFor(method: Parameters<typeof backendEntry>[0]): Backend {
  return backendEntry(method).backend;
}
