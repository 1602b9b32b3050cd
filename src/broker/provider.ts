// The broker core provider: how a core of this process reaches other processes through the broker thread, and remote cores there.
//
// The whole story, for authors of primitives and of other providers:
//
// 1. Travel. A primitive's `[kReduce](destination)` returns `reduceCore(core, destination)` and
//    its reviver calls `reviveCore(wire)` (src/shared/provider.ts); the core's provider decides
//    the form. A core over this process's buffers (the local provider) goes to a thread as its
//    buffers, and to another process as a broker handle (`{ t: 'remote', handle }`): the owner
//    registers the core with its broker thread (started lazily), and the other process gets a
//    *remote core*. A remote core travels on as the same handle (grandchildren, and threads of
//    a child, talk to the owner's broker directly). A handle that comes back to its owner
//    process revives as a core over the original buffers.
//
// 2. Remote cores (in a child). Same method names as the real core: `xAsync(...)` → async RPC
//    (a Promise); any other method → blocking RPC (the calling thread sleeps while a helper
//    thread does the round trip). The broker runs `xSync` as its `xAsync` twin when there is
//    one, and `xAsync` as plain `x` when the core has no `xAsync` (so a child can call any plain
//    method without blocking: `await core.releaseAsync(owner)`). `core.kind` and
//    `core.state.meta` are local; `core.state.buffers` is empty — `isRealCore(core)` is false.
//    Property reads other than kind/state are methods: a core must not expose plain data
//    fields that callers read. Arguments and results must be structured-cloneable (v8
//    serialization); no functions, no SharedArrayBuffers, no other cores.
//
// 3. Errors. What a core method throws in the broker arrives with its class (library and
//    built-in classes; others as Error with the same name) and `code`. When the broker is
//    unreachable or goes away (owner exited, broker stopped), calls reject/throw
//    `InvalidStateError` with code `ERR_BROKER_GONE` — never hang.
//
// 4. A child that dies while the broker waits for it: inside an `xAsync` run for a child,
//    `callSignal()` (src/shared/call-context.ts) returns an AbortSignal that aborts when that
//    child disconnects. A waiting method that takes something on success (a lock, a queue item)
//    should read it synchronously at its start and stop waiting on abort, or a dead child may
//    end up holding the lock.
//
// 5. Named buffers (SharedMemory by name): see publishBuffer / createBuffer / lookupBuffer /
//    unpublishBuffer below, offered to primitives as the provider's `names()`. Errors:
//    FileExistsError (ERR_FILE_EXISTS), FileNotFoundError (ERR_FILE_NOT_FOUND) from
//    src/errors.ts, as Python's. The registry lives in the root process's broker; a child finds
//    it through the MULTIPROCESSING_TS_BROKER variable it inherits (brokerEnvironment(), which
//    the process backend adds to every fork).
//
// 6. Cost. From a child, one call is one socket round trip to the owner's broker thread
//    (about the raw Unix-socket round trip for async calls; a blocking call adds two thread
//    hops through the helper). Make each public operation ONE core call in a child (e.g.
//    `getLockedSync(owner)` rather than acquire + read + release); pipelined async calls
//    are several times cheaper per call than sequential ones.
//
// 7. Lifetime. A core registered with the broker stays there until the broker stops (the
//    owner cannot know when the last child drops its handle). Handles minted before
//    stopBroker() are stale afterwards: calls through them fail with ERR_BROKER_GONE.
import { isMainThread } from 'node:worker_threads';
import { type CoreState, type SharedCore, createCore } from '../shared/core.ts';
import {
  type Memory,
  adoptShared,
  allocateShared,
  describeShared,
  kLocalMemory,
  reviveShared,
  sizeOfShared,
} from '../shared/memory.ts';
import { carryLocalCoresWith } from '../shared/local-provider.ts';
import {
  type CoreProvider,
  type CoreWire,
  type NamedBuffers,
  registerProvider,
} from '../shared/provider.ts';
import { BufferCore } from '../shared/buffer-core.ts';
import { callSync, remoteCore, remoteHandleOf } from './client.ts';
import type { CoreHandle } from './protocol.ts';
import {
  brokerGeneration,
  brokerRunning,
  brokerGone,
  kBrokerEnv,
  registerWithBroker,
  requestBroker,
} from './host.ts';
import { checkInteger, checkString, invalidArg } from '../validate.ts';
import { state } from '../runtime/state.ts';

export type { CoreHandle } from './protocol.ts';
export { BufferCore, type BufferMeta, kBufferKind } from '../shared/buffer-core.ts';
export { stopBroker, brokerDirectory, brokerEnvironment } from './host.ts';

/** A broker handle on the wire. */
export interface RemoteWire extends CoreWire {
  readonly t: 'remote';
  readonly handle: CoreHandle;
}

interface Shared {
  readonly handle: CoreHandle;
  readonly generation: number;
}
// Per core object: its handle, re-registered if the broker was stopped and restarted since.
const sharedCores = new WeakMap<SharedCore, Shared>();
// Cores this thread shared or revived, by broker id: a handle coming back finds the same object.
const coresById = new Map<number, WeakRef<SharedCore>>();

/**
 * Whether `core` is a remote core (its calls go to another process's broker).
 * @example
 * if (!isRemoteCore(core)) view = new Int32Array(core.state.buffers[0]!)
 */
export function isRemoteCore(core: SharedCore): boolean {
  return remoteHandleOf(core) !== undefined;
}

/**
 * The broker handle of `core`, for a child process. A local core is registered with this
 * process's broker (started lazily; the SharedArrayBuffers are shared with the broker thread,
 * not copied); the same handle is returned for the same core object. A remote core returns its
 * own handle. Works from any thread of the owner process.
 * @example
 * const handle = shareCore(lock.core) // { kind: 'Lock', id: 3, address: '/tmp/mp-ts-x/broker.sock', pid, meta }
 */
export function shareCore(core: SharedCore): CoreHandle {
  const remote = remoteHandleOf(core);
  if (remote) return remote;
  const known = sharedCores.get(core);
  const generation = brokerGeneration();
  if (known && known.generation === generation && brokerRunning()) return known.handle;
  const handle = registerWithBroker(core, known?.handle.id);
  sharedCores.set(core, { handle, generation: brokerGeneration() });
  coresById.set(handle.id, new WeakRef(core));
  return handle;
}

/**
 * The core behind `handle`: in the owner process (any thread) a core over the original
 * buffers (the very object, in the thread that shared it); in any other process a remote core.
 * @example
 * const core = coreFromHandle(handle) as LockCore
 */
export function coreFromHandle(handle: CoreHandle): SharedCore {
  if (handle.pid !== process.pid) return remoteCore(handle);
  const known = coresById.get(handle.id)?.deref();
  if (known) return known;
  const { kind, state } = requestBroker({ t: 'state', id: handle.id }) as {
    kind: string;
    state: CoreState;
  };
  const core = createCore(kind, state);
  coresById.set(handle.id, new WeakRef(core));
  sharedCores.set(core, { handle, generation: brokerGeneration() });
  return core;
}

// --- named buffers ------------------------------------------------------------------------

/**
 * The root broker's service for a child process, or null in the root process (any thread).
 * The root records its broker in an environment variable that child processes inherit.
 */
function rootHandle(): CoreHandle | null {
  // Only workers the library started use the inherited variable: an unrelated program that
  // inherited it from ours is a root of its own.
  if (state().isMain) return null;
  const env = process.env[kBrokerEnv];
  if (env) {
    const colon = env.indexOf(':');
    const pid = Number(env.slice(0, colon));
    if (pid === process.pid) return null;
    return { kind: 'mp:service', id: 0, address: env.slice(colon + 1), pid, meta: undefined };
  }
  if (isMainThread) {
    throw brokerGone(
      'named shared buffers are kept by the main process, whose broker was not running when this process started: create the first SharedMemory in the main process before starting children',
    );
  }
  return null;
}

function checkName(name: unknown): asserts name is string {
  checkString(name, 'name');
  if (name === undefined || name === '') invalidArg('name', 'a non-empty string', name);
}

/**
 * Publishes `buffer` under `name` for every thread of this process and every child process
 * (SharedMemory by name). Synchronous, from any thread of the root process. Throws
 * `FileExistsError` (code `ERR_FILE_EXISTS`) if the name is taken. In a child process a local
 * SharedArrayBuffer cannot be shared: use {@link createBuffer} there.
 * @example
 * publishBuffer('psm_1234', allocateShared(64))
 */
export function publishBuffer(name: string, buffer: SharedArrayBuffer): void {
  checkName(name);
  if (!(buffer instanceof SharedArrayBuffer)) invalidArg('buffer', 'a SharedArrayBuffer', buffer);
  if (rootHandle())
    throw new TypeError(
      'publishBuffer() cannot share memory from a child process: use createBuffer(name, size)',
    );
  requestBroker({
    t: 'publish',
    name,
    buffer,
    size: sizeOfShared(buffer),
    description: describeShared(buffer),
  });
}

/**
 * Creates a zero-filled shared buffer of `size` bytes named `name`, anywhere in the program.
 * In the root process (any thread): a SharedArrayBuffer from `memory`. In a child process: a
 * remote {@link BufferCore} over a buffer the root's broker allocated (read/write/getByte/setByte
 * are blocking round trips; readAsync/writeAsync are not). Throws `FileExistsError` if taken.
 * @example
 * const mem = createBuffer('psm_1234', 64)
 * if (mem instanceof SharedArrayBuffer) new Uint8Array(mem)[0] = 1
 * else mem.setByte(0, 1)
 */
export function createBuffer(
  name: string,
  size: number,
  memory: Memory = kLocalMemory,
): SharedArrayBuffer | BufferCore {
  checkName(name);
  checkInteger(size, 'size', 1);
  const root = rootHandle();
  if (root)
    return coreFromHandle(callSync(root, 'createBuffer', [name, size]) as CoreHandle) as BufferCore;
  const buffer = allocateShared(size, undefined, memory);
  requestBroker({ t: 'publish', name, buffer, size, description: describeShared(buffer) });
  return buffer;
}

/**
 * The shared buffer named `name`: a SharedArrayBuffer in the root process (any thread), a
 * remote {@link BufferCore} in a child process (size: `(core.state.meta as BufferMeta).size`).
 * Throws `FileNotFoundError` (code `ERR_FILE_NOT_FOUND`) when no such name is published.
 * @example
 * const mem = lookupBuffer('psm_1234')
 */
export function lookupBuffer(name: string): SharedArrayBuffer | BufferCore {
  checkName(name);
  const root = rootHandle();
  if (root) {
    // A block of memory this process can map too (mapped memory) is mapped here; if it cannot
    // be (its maker dropped it, no addon here), the broker reaches it.
    const description = callSync(root, 'describeBuffer', [name]);
    try {
      const mapped = reviveShared(description);
      if (mapped) return mapped;
    } catch {
      // fall through to the broker
    }
    return coreFromHandle(callSync(root, 'lookupBuffer', [name]) as CoreHandle) as BufferCore;
  }
  const { buffer, description } = requestBroker({ t: 'lookup', name }) as {
    buffer: SharedArrayBuffer;
    description: unknown;
  };
  // The registry's thread sent a new object for the same memory: let its memory adopt it.
  adoptShared(buffer, description);
  return buffer;
}

/**
 * Removes `name` from the registry (SharedMemory.unlink). Attached buffers stay usable; the name
 * can be created again. Throws `FileNotFoundError` when it is not published.
 * @example
 * unpublishBuffer('psm_1234')
 */
export function unpublishBuffer(name: string): void {
  checkName(name);
  const root = rootHandle();
  if (root) callSync(root, 'unpublishBuffer', [name]);
  else requestBroker({ t: 'unpublish', name });
}

/** A {@link BufferCore} over `buffer`, to share a SharedMemory's bytes with child processes. */
export function bufferCore(buffer: SharedArrayBuffer, size = buffer.byteLength): BufferCore {
  return BufferCore.over(buffer, size);
}

const brokerNames: NamedBuffers = {
  create: createBuffer,
  lookup: lookupBuffer,
  unlink: unpublishBuffer,
  bytes: bufferCore,
};

/**
 * Remote cores, and the way local cores reach other processes: through the broker thread of
 * the process that owns their buffers. New cores of a context on this provider are made in
 * this process's memory, and served by its broker to the other processes.
 * @example
 * reduceCore(lock.core, kAnotherProcess) // { t: 'remote', handle }
 */
export const brokerCores: CoreProvider = {
  mode: 'broker',
  memory: kLocalMemory,
  tags: ['remote'],
  claims: (core) => remoteHandleOf(core) !== undefined,
  // It claims remote cores only; a local core it carries belongs to the local provider.
  isReal: () => false,
  reduceCore: (core) => ({ t: 'remote', handle: shareCore(core) }) as RemoteWire,
  reviveCore: (wire) => coreFromHandle((wire as RemoteWire).handle),
  names: () => brokerNames,
};

registerProvider(brokerCores);
carryLocalCoresWith(brokerCores);
