// How a shared primitive's core reaches other threads and processes: the API every primitive's reduce/revive uses.
//
// For primitive authors (Sync, Queue engineers), the whole story in one place:
//
// 1. Travel. In `[kReduce](destination)` and the reviver, write one line each:
//
//      [kReduce](destination: Destination) {
//        return { kind: 'Lock', state: reduceCore(this.#core, destination) };
//      }
//      registerReviver('Lock', (wire: CoreWire) => Lock[kFromCore](reviveCore(wire)));
//
//    To a thread, the wire carries the buffers themselves (`{ t: 'local', kind, state }`); the
//    receiving thread runs `createCore` over the same memory. To a child process it carries a
//    small handle (`{ t: 'remote', handle }`): the owner registers the core with its broker
//    thread (started lazily), and the child gets a *remote core*. A remote core travels on as
//    the same handle (grandchildren, and threads of a child, talk to the owner's broker
//    directly). A handle that comes back to its owner process revives as a core over the
//    original buffers.
//
// 2. Remote cores (in a child). Same method names as the real core: `xAsync(...)` → async RPC
//    (a Promise); any other method → blocking RPC (the calling thread sleeps in Atomics.wait
//    while a helper thread does the round trip). The broker runs `xSync` as its `xAsync` twin
//    when there is one, and `xAsync` as plain `x` when the core has no `xAsync` (so a child can
//    call any plain method without blocking: `await core.releaseAsync(owner)`). `core.kind` and `core.state.meta` are local; `core.state.buffers` is
//    empty — test `isRemoteCore(core)` for a different fast path. Property reads other than
//    kind/state are methods: a core must not expose plain data fields that callers read.
//    Arguments and results must be structured-cloneable (v8 serialization); no functions, no
//    SharedArrayBuffers, no other cores.
//
// 3. Errors. What a core method throws in the broker arrives with its class (library and
//    built-in classes; others as Error with the same name) and `code`. When the broker is
//    unreachable or goes away (owner exited, broker stopped), calls reject/throw
//    `InvalidStateError` with code `ERR_BROKER_GONE` — never hang.
//
// 4. A child that dies while the broker waits for it: inside an `xAsync` run for a child,
//    `callSignal()` returns an AbortSignal that aborts when that child disconnects. A waiting
//    method that takes something on success (a lock, a queue item) should read it synchronously
//    at its start and stop waiting on abort, or a dead child may end up holding the lock.
//
// 5. Named buffers (SharedMemory by name): see publishBuffer / createBuffer / lookupBuffer /
//    unpublishBuffer below. Errors: FileExistsError (ERR_FILE_EXISTS), FileNotFoundError
//    (ERR_FILE_NOT_FOUND) from src/errors.ts, as Python's. The registry lives in the root
//    process's broker; a child finds it through the MULTIPROCESSING_TS_BROKER variable it
//    inherits (see brokerEnvironment(): the process backend should add it to every fork).
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
import type { Destination } from '../reduction/values.ts';
import { type CoreState, type SharedCore, createCore } from './core.ts';
import { type Memory, allocateShared, kLocalMemory } from './memory.ts';
import { BufferCore } from '../broker/buffer-core.ts';
import { callSync, remoteCore, remoteHandleOf } from '../broker/client.ts';
import type { CoreHandle } from '../broker/protocol.ts';
import {
  brokerGeneration,
  brokerRunning,
  brokerGone,
  kBrokerEnv,
  registerWithBroker,
  requestBroker,
} from '../broker/host.ts';
import { checkInteger, checkString, invalidArg } from '../validate.ts';
import { state } from '../runtime/state.ts';

export type { CoreHandle } from '../broker/protocol.ts';
export { callSignal } from '../broker/call-context.ts';
export { BufferCore, type BufferMeta, kBufferKind } from '../broker/buffer-core.ts';
export { stopBroker, brokerDirectory, brokerEnvironment } from '../broker/host.ts';

/** A core on the wire: its buffers (to a thread of the owner process) or its broker handle. */
export type CoreWire =
  | { readonly t: 'local'; readonly kind: string; readonly state: CoreState }
  | { readonly t: 'remote'; readonly handle: CoreHandle };

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

/**
 * The wire form of `core` for `destination`: what a primitive's `[kReduce]` returns as (part of)
 * its state. To a thread: the buffers (or, for a remote core, its handle); to a process: a handle.
 * @example
 * [kReduce](destination: Destination) { return { kind: 'Event', state: reduceCore(this.#core, destination) } }
 */
export function reduceCore(core: SharedCore, destination: Destination): CoreWire {
  const remote = remoteHandleOf(core);
  if (remote) return { t: 'remote', handle: remote };
  if (destination === 'thread') return { t: 'local', kind: core.kind, state: core.state };
  return { t: 'remote', handle: shareCore(core) };
}

/**
 * Rebuilds a core from {@link reduceCore}'s wire form, on the receiving side.
 * @example
 * registerReviver('Event', (wire: CoreWire) => Event[kFromCore](reviveCore(wire)))
 */
export function reviveCore(wire: CoreWire): SharedCore {
  switch (wire.t) {
    case 'local':
      return createCore(wire.kind, wire.state);
    case 'remote':
      return coreFromHandle(wire.handle);
    default:
      throw new Error(`assertion failed: unknown core wire ${(wire as { t: string }).t}`);
  }
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
  requestBroker({ t: 'publish', name, buffer });
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
  requestBroker({ t: 'publish', name, buffer });
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
  if (root)
    return coreFromHandle(callSync(root, 'lookupBuffer', [name]) as CoreHandle) as BufferCore;
  return requestBroker({ t: 'lookup', name }) as SharedArrayBuffer;
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
export function bufferCore(buffer: SharedArrayBuffer): BufferCore {
  return BufferCore.over(buffer);
}
