// The manager's object server: holds referents by id and runs proxies' method calls on them, in its own worker.
import { randomBytes } from 'node:crypto';
import { type Server, type Socket, createServer } from 'node:net';
import type { ParentChannel } from '../backends/types.ts';
import type { LifecycleMessage, StopMessage } from '../runtime/protocol.ts';
import { DataCloneError, RemoteError } from '../errors.ts';
import * as lib from '../errors.ts';
import { type FnRef, reduceClass } from '../reduction/functions.ts';
import { type SerializedError, serializeError } from '../reduction/errors.ts';
import { reviveFunction } from '../reduction/revive.ts';
import { decode, encode, kAnotherProcess } from '../reduction/values.ts';
import { exitWorker, loadRevivers } from '../runtime/worker.ts';
import { BaseProxy } from './proxy.ts';
import {
  ArrayReferent,
  DictReferent,
  ListReferent,
  NamespaceReferent,
  ValueReferent,
} from './referents.ts';
import {
  BarrierReferent,
  type Caller,
  ConditionReferent,
  type ConditionLock,
  EventReferent,
  LockReferent,
  RLockReferent,
  SemaphoreReferent,
  withCaller,
} from './sync-referents.ts';
import { QueueReferent } from './queue-referent.ts';
import {
  type Handshake,
  type Request,
  closedError,
  frame,
  readFrames,
  verifyDigest,
} from './transport.ts';

/** How the server builds the objects of one typeid. */
export type FactorySpec =
  { readonly kind: 'builtin' } | { readonly kind: 'function' | 'class'; readonly fn: FnRef } | null;

/** One registered typeid as it travels to the server. */
export interface RegistryEntry {
  readonly typeid: string;
  readonly factory: FactorySpec;
  /** Method names proxies may call; null: every public method of the object. */
  readonly exposed: readonly string[] | null;
}

/** What a manager worker runs: an object server on `address` for these typeids. */
export interface ManagerJob {
  readonly kind: 'manager';
  readonly address: string;
  readonly authkey: Uint8Array;
  readonly registry: readonly RegistryEntry[];
  readonly initializer: FnRef | null;
  readonly initargs: unknown;
  readonly walked: boolean;
}

type Factory = (...args: any[]) => unknown;

// The SyncManager's typeids: how the server builds each one. `exposed` narrows a shared class.
const kBuiltins = new Map<
  string,
  { create: (server: ObjectServer) => Factory; exposed?: string[] }
>([
  ['dict', { create: () => (init?: unknown) => new DictReferent(init) }],
  ['list', { create: () => (init?: unknown) => new ListReferent(init) }],
  ['Namespace', { create: () => (init?: unknown) => new NamespaceReferent(init) }],
  ['Value', { create: () => (typecode: string, v: unknown) => new ValueReferent(typecode, v) }],
  ['Array', { create: () => (typecode: any, init: any) => new ArrayReferent(typecode, init) }],
  [
    'Queue',
    {
      create: () => (maxsize?: number) => new QueueReferent(maxsize),
      exposed: ['put', 'get', 'putNowait', 'getNowait', 'qsize', 'empty', 'full'],
    },
  ],
  ['JoinableQueue', { create: () => (maxsize?: number) => new QueueReferent(maxsize) }],
  ['Lock', { create: () => () => new LockReferent() }],
  ['RLock', { create: () => () => new RLockReferent() }],
  ['Semaphore', { create: () => (value?: number) => new SemaphoreReferent(value) }],
  ['BoundedSemaphore', { create: () => (value?: number) => new SemaphoreReferent(value, true) }],
  [
    'Condition',
    { create: (server) => (lock?: unknown) => new ConditionReferent(server.lockOf(lock)) },
  ],
  ['Event', { create: () => () => new EventReferent() }],
  [
    'Barrier',
    {
      create:
        () =>
        async (
          parties: number,
          options: { action: FnRef | null; timeout?: number } = { action: null },
        ) => {
          const action = options.action
            ? ((await reviveFunction(options.action)) as () => unknown)
            : null;
          return new BarrierReferent(parties, action, options.timeout);
        },
    },
  ],
]);

/** The public methods of `object`: functions on it and its prototypes, not starting with `_`. */
export function publicMethods(object: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = object; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === 'constructor' || name.startsWith('_')) continue;
      const descriptor = Object.getOwnPropertyDescriptor(o, name);
      if (descriptor && typeof descriptor.value === 'function') names.add(name);
    }
  }
  return [...names];
}

/** An error's wire form; an instance of a user's class that kept the name 'Error' is named after its class. */
function wireError(error: unknown): SerializedError {
  const serialized = serializeError(error);
  const ctor = error instanceof Error ? error.constructor : null;
  if (serialized.name === 'Error' && ctor && ctor !== Error && ctor.name) {
    const stack = serialized.stack.startsWith('Error')
      ? ctor.name + serialized.stack.slice('Error'.length)
      : serialized.stack;
    return { ...serialized, name: ctor.name, stack };
  }
  return serialized;
}

/** A reference to a thrown error's own class, when it is a user's class (built-in and library classes rebuild by name). */
function errorClass(error: unknown): FnRef | undefined {
  if (!(error instanceof Error)) return undefined;
  const ctor = error.constructor as Function;
  const global = (globalThis as Record<string, unknown>)[ctor.name];
  if (global === ctor || Object.values(lib).includes(ctor as never)) return undefined;
  try {
    return reduceClass(ctor);
  } catch {
    return undefined;
  }
}

interface Entry {
  readonly typeid: string;
  readonly referent: Record<string, unknown>;
  readonly exposed: ReadonlySet<string>;
}

/** The registry of shared objects and the dispatch of method calls to them. */
class ObjectServer {
  readonly address: string;
  readonly #factories = new Map<string, { create: Factory; exposed: readonly string[] | null }>();
  readonly #entries = new Map<string, Entry>();
  #nextId = 1;

  constructor(address: string) {
    this.address = address;
  }

  /** Makes the factories of the registry ready (user factories are imported now, so errors show at start). */
  async register(registry: readonly RegistryEntry[]): Promise<void> {
    for (const { typeid, factory, exposed } of registry) {
      if (factory === null) continue;
      if (factory.kind === 'builtin') {
        const builtin = kBuiltins.get(typeid);
        if (!builtin) throw new Error(`assertion failed: no built-in typeid '${typeid}'`);
        this.#factories.set(typeid, {
          create: builtin.create(this),
          exposed: exposed ?? builtin.exposed ?? null,
        });
        continue;
      }
      const fn = (await reviveFunction(factory.fn)) as Factory;
      const create =
        factory.kind === 'class'
          ? (...args: unknown[]) => Reflect.construct(fn, args)
          : (...args: unknown[]) => fn(...args);
      this.#factories.set(typeid, { create, exposed });
    }
  }

  /** Creates an object of `typeid`; returns its id and the methods its proxies may call. */
  async create(
    typeid: string,
    args: unknown[],
    caller: Caller,
  ): Promise<{ id: string; exposed: string[] }> {
    const factory = this.#factories.get(typeid);
    if (!factory)
      throw new RemoteError(`typeid '${typeid}' has no factory in this manager's server`);
    const referent = await withCaller(caller, () => factory.create(...args));
    if (typeof referent !== 'object' || referent === null)
      throw new TypeError(`the factory of '${typeid}' returned ${String(referent)}, not an object`);
    const exposed = [...(factory.exposed ?? publicMethods(referent))];
    const id = (this.#nextId++).toString(16);
    this.#entries.set(id, {
      typeid,
      referent: referent as Record<string, unknown>,
      exposed: new Set(exposed),
    });
    return { id, exposed };
  }

  /** Calls `method` on the object `id` on behalf of `caller`. */
  async call(id: string, method: string, args: unknown[], caller: Caller): Promise<unknown> {
    const entry = this.#entries.get(id);
    if (!entry) throw new RemoteError(`no shared object with id ${id} in this manager`);
    const fn = entry.referent[method];
    if (!entry.exposed.has(method) || typeof fn !== 'function') {
      throw new RemoteError(
        `method '${method}' of '${entry.typeid}' is not exposed; exposed: ${[...entry.exposed].join(', ')}`,
      );
    }
    return await withCaller(caller, () => fn.apply(entry.referent, args));
  }

  /** The lock referent a Condition was given (a Lock or RLock proxy of this very server), if any. */
  lockOf(lock: unknown): ConditionLock | undefined {
    if (lock === undefined || lock === null) return undefined;
    const entry =
      lock instanceof BaseProxy && lock.address === this.address
        ? this.#entries.get(lock.id)
        : undefined;
    const referent = entry?.referent;
    if (referent instanceof LockReferent || referent instanceof RLockReferent) return referent;
    throw new TypeError('Expected `lock` to be a Lock or RLock proxy of the same manager');
  }
}

/** Serves one authenticated connection: each request runs at once, replies go out as they finish. */
function serveConnection(
  server: ObjectServer,
  socket: Socket,
  authkey: Uint8Array,
  id: number,
): void {
  const leaving = new AbortController();
  const caller: Caller = { id, signal: leaving.signal };
  const nonce = randomBytes(32);
  let authenticated = false;
  socket.on('error', () => {});
  socket.on('close', () =>
    leaving.abort(closedError(server.address, new Error('the caller left'))),
  );
  socket.write(frame({ t: 'challenge', nonce } satisfies Handshake));
  const reply = (message: unknown) => {
    if (!socket.destroyed) socket.write(frame(message));
  };
  const handle = async (request: Request): Promise<void> => {
    let value: unknown;
    try {
      const args = decode(request.args, request.walked) as unknown[];
      if (request.t === 'create') value = await server.create(request.typeid, args, caller);
      else if (request.t === 'call')
        value = await server.call(request.id, request.method, args, caller);
      else
        throw new Error(`assertion failed: unknown request tag '${(request as { t: string }).t}'`);
    } catch (error) {
      return reply({ t: 'err', rid: request.rid, error: wireError(error), cls: errorClass(error) });
    }
    const encoded = encode(value, kAnotherProcess);
    let bytes: Buffer;
    try {
      bytes = frame({ t: 'ok', rid: request.rid, value: encoded.value, walked: encoded.walked });
    } catch (error) {
      const what = request.t === 'call' ? `the result of ${request.method}()` : 'the new object';
      const failure = new DataCloneError(
        `Cannot send ${what} back from the manager: ${(error as Error).message}`,
      );
      return reply({ t: 'err', rid: request.rid, error: wireError(failure) });
    }
    if (!socket.destroyed) socket.write(bytes);
  };
  readFrames(socket, (message) => {
    if (!authenticated) {
      const answer = message as Handshake;
      if (answer.t === 'answer' && verifyDigest(authkey, nonce, answer.digest)) {
        authenticated = true;
        socket.write(frame({ t: 'welcome' } satisfies Handshake));
      } else {
        socket.end(frame({ t: 'rejected' } satisfies Handshake));
      }
      return;
    }
    void handle(message as Request);
  });
}

/** Entry point of a manager worker (called by the worker runtime for a 'manager' job). */
export async function runManagerServer(
  job: ManagerJob,
  channel: ParentChannel<StopMessage, LifecycleMessage>,
): Promise<void> {
  const server = new ObjectServer(job.address);
  const sockets = new Set<Socket>();
  let listener: Server | null = null;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    listener?.close();
    for (const socket of sockets) socket.destroy();
    await exitWorker(0);
  };
  channel.onMessage((message) => {
    if (message.t === 'stop') void stop();
  });
  // A worker whose parent is gone has nobody left to serve.
  channel.onDisconnect(() => void stop());
  try {
    // Requests may carry any library object (proxies included): every reviver must be loaded.
    await loadRevivers();
    await server.register(job.registry);
    if (job.initializer) {
      const initializer = await reviveFunction(job.initializer);
      await initializer(...(decode(job.initargs, job.walked) as unknown[]));
    }
    let nextCaller = 1;
    listener = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      serveConnection(server, socket, job.authkey, nextCaller++);
    });
    await new Promise<void>((resolve, reject) => {
      listener!.once('error', reject);
      listener!.listen(job.address, () => resolve());
    });
  } catch (error) {
    channel.post({ t: 'init-failed', error: wireError(error) });
    await exitWorker(1);
    return;
  }
  channel.post({ t: 'ready' });
}
