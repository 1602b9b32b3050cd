// Remote cores: a child's stand-in for a core owned by another process, whose calls travel to that process's broker.
import type { CoreState, SharedCore } from '../shared/core.ts';
import { cloneError } from '../reduction/values.ts';
import { deserializeError } from '../reduction/errors.ts';
import { type CoreHandle, type ReplyFrame, decodeBody, encodeFrame } from './protocol.ts';
import { FrameSocket } from './socket.ts';
import { SyncBridge } from './sync-bridge.ts';
import { runBeforeBlocking } from '../shared/blocking-hooks.ts';

/** Where a remote core keeps its handle. */
export const kRemoteHandle = Symbol('multiprocessing-ts.remote-handle');

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Async calls from this thread to one broker, pipelined on one socket. */
class AsyncClient {
  readonly #socket: FrameSocket;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(address: string, pid: number, onGone: () => void) {
    this.#socket = new FrameSocket(
      address,
      pid,
      (body) => this.#onFrame(body),
      (error) => {
        onGone();
        for (const p of this.#pending.values()) p.reject(error);
        this.#pending.clear();
      },
    );
  }

  call(coreId: number, method: string, args: readonly unknown[]): Promise<unknown> {
    const gone = this.#socket.gone;
    if (gone) return Promise.reject(gone);
    let frame: Buffer;
    try {
      frame = encodeFrame([this.#nextId, coreId, method, args]);
    } catch (error) {
      return Promise.reject(cloneError(error, `a call to ${method}()`, args));
    }
    return new Promise((resolve, reject) => {
      // A pending call keeps the child alive (the socket is unref'd while idle).
      if (this.#pending.size === 0) this.#socket.ref();
      this.#pending.set(this.#nextId++, { resolve, reject });
      this.#socket.write(frame);
    });
  }

  #onFrame(body: Buffer): void {
    const reply = decodeBody(body) as ReplyFrame;
    const p = this.#pending.get(reply[0]);
    if (!p) return;
    this.#pending.delete(reply[0]);
    if (this.#pending.size === 0) this.#socket.unref();
    if (reply[1]) p.resolve(reply[2]);
    else p.reject(deserializeError(reply[2]));
  }
}

// One async client and one sync bridge per broker address, per thread (module state is per thread).
const asyncClients = new Map<string, AsyncClient>();
const syncBridges = new Map<string, SyncBridge>();

function asyncClient(handle: CoreHandle): AsyncClient {
  let client = asyncClients.get(handle.address);
  if (!client) {
    client = new AsyncClient(handle.address, handle.pid, () => {
      if (asyncClients.get(handle.address) === client) asyncClients.delete(handle.address);
    });
    asyncClients.set(handle.address, client);
  }
  return client;
}

function syncBridge(handle: CoreHandle): SyncBridge {
  let bridge = syncBridges.get(handle.address);
  if (!bridge || bridge.gone) {
    bridge = new SyncBridge(handle.address, handle.pid);
    syncBridges.set(handle.address, bridge);
  }
  return bridge;
}

/**
 * Calls `method` of the core behind `handle` asynchronously (the broker runs it, awaiting it if
 * it returns a Promise). Never throws synchronously.
 * @example
 * await callAsync(handle, 'acquireAsync', [owner, 100])
 */
export function callAsync(
  handle: CoreHandle,
  method: string,
  args: readonly unknown[],
): Promise<unknown> {
  return asyncClient(handle).call(handle.id, method, args);
}

/**
 * Calls `method` of the core behind `handle` and blocks this thread until the broker answers.
 * @example
 * callSync(handle, 'release', [owner])
 */
export function callSync(handle: CoreHandle, method: string, args: readonly unknown[]): unknown {
  runBeforeBlocking();
  return syncBridge(handle).call(handle.id, method, args);
}

// Property names a Proxy must not turn into RPCs (promise detection, inspection, coercion).
const kNotMethods = new Set([
  'then',
  'catch',
  'finally',
  'toJSON',
  'constructor',
  'valueOf',
  'toString',
]);

/**
 * A remote core for `handle`: `kind`, `state` (no buffers; `meta` as the owner's) and, for any
 * other property name, a method — `xAsync(...)` returns a Promise of the broker's result;
 * every other method blocks until the broker answers.
 * @example
 * const core = remoteCore(handle) as LockCore
 * await core.acquireAsync(owner)   // async RPC
 * core.release(owner)              // blocking RPC
 */
export function remoteCore(handle: CoreHandle): SharedCore {
  const state: CoreState = Object.freeze({ buffers: Object.freeze([]), meta: handle.meta });
  const target: Record<string | symbol, unknown> = {
    kind: handle.kind,
    state,
    [kRemoteHandle]: handle,
  };
  return new Proxy(target, {
    get(t, prop) {
      if (typeof prop === 'symbol' || prop in t) return t[prop];
      if (kNotMethods.has(prop)) return undefined;
      const method = prop.endsWith('Async')
        ? (...args: unknown[]) => callAsync(handle, prop, args)
        : (...args: unknown[]) => callSync(handle, prop, args);
      t[prop] = method;
      return method;
    },
  }) as unknown as SharedCore;
}

/** The handle of a remote core, or undefined for a local one. */
export function remoteHandleOf(core: SharedCore): CoreHandle | undefined {
  return (core as unknown as { [kRemoteHandle]?: CoreHandle })[kRemoteHandle];
}
