// The broker thread: runs shared primitives' cores on behalf of child processes that cannot map their memory.
//
// Design notes.
// - Why a thread. Child processes cannot map this process's SharedArrayBuffers, so someone here
//   must run the algorithms for them. A worker thread of the owner process holds the very same
//   buffers (postMessage shares them), so the main thread keeps touching them directly — it is
//   never a relay, and a main thread blocked in `acquireSync()` cannot starve or deadlock the
//   broker. The thread is started lazily (first primitive shared with a child, or first named
//   buffer) and unref'd: it never keeps Node alive.
// - Why sockets. A Unix socket (a named pipe on Windows) in a private 0700 directory reaches the
//   broker from any process and any thread of it — grandchildren included — with no relay
//   through the parent's IPC channel (whose owner is the Process machinery, and which does not
//   exist in threads). Frames are length-prefixed v8 serializations, pipelined per socket.
// - The Sync→Async twin rule. A child's `fooSync(...)` runs here as `fooAsync(...)` when the
//   core has that twin: the broker's waits never block its thread, so one child blocked in a
//   wait never blocks the broker or other children; the child's thread is the one that blocks
//   (in a futex wait, while its helper thread does the socket round trip). Plain methods run at
//   once; async ones are awaited; `xAsync` of a core that has only a plain `x` runs `x` (a
//   child's non-blocking form of it). A caller that disconnects aborts `callSignal()`.
// - When the owner process dies, the thread dies with it: children's sockets close and their
//   pending and later calls fail with InvalidStateError `ERR_BROKER_GONE` (never hang). The
//   'exit' hook removes the directory; after SIGKILL it stays in the temp dir (nothing runs).
import { rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { BroadcastChannel, parentPort } from 'node:worker_threads';
import { DataCloneError, FileExistsError, FileNotFoundError } from '../errors.ts';
import { serializeError } from '../reduction/errors.ts';
import { type CoreState, type SharedCore, createCore, hasCore } from '../shared/core.ts';
import { notify } from '../shared/atomics.ts';
import { type Memory, allocateShared, kLocalMemory } from '../shared/memory.ts';
import { ensureTypeScript } from '../backends/ts-support.mjs';
import { BufferCore, kBufferKind } from '../shared/buffer-core.ts';
import { type BrokerCall, withCall } from '../shared/call-context.ts';
import type { BrokerData } from './host.ts';
import {
  type CallFrame,
  type CoreHandle,
  type ReplyTo,
  type ThreadReply,
  type ToBroker,
  FrameReader,
  decodeBody,
  encodeFrame,
  kControl,
  kState,
} from './protocol.ts';

// A call for a core whose registration has not arrived yet waits this long for it (a handle can
// reach a child before the owner's registration message reaches the broker).
const kParkMs = 10_000;

/** A named buffer in the registry. */
interface Named {
  readonly buffer: SharedArrayBuffer;
  /** The bytes asked for. */
  readonly size: number;
  /** How another thread of this process adopts the buffer (see describeShared). */
  readonly description: unknown;
  handle: CoreHandle | null;
}

/** The broker's own core (id 0): named buffers for children. */
class ServiceCore implements SharedCore {
  readonly kind = 'mp:service';
  readonly state: CoreState = { buffers: [] };
  readonly #broker: Broker;
  // Where the buffers children create come from.
  readonly #memory: Memory;
  constructor(broker: Broker, memory: Memory = kLocalMemory) {
    this.#broker = broker;
    this.#memory = memory;
  }
  createBuffer(name: string, size: number): CoreHandle {
    this.#broker.publish(name, allocateShared(size, undefined, this.#memory), size);
    try {
      return this.#broker.bufferHandle(name);
    } catch (error) {
      // A block that cannot be used leaves no name behind.
      this.#broker.unpublish(name);
      throw error;
    }
  }
  lookupBuffer(name: string): CoreHandle {
    return this.#broker.bufferHandle(name);
  }
  describeBuffer(name: string): unknown {
    return this.#broker.description(name);
  }
  unpublishBuffer(name: string): void {
    this.#broker.unpublish(name);
  }
}

interface Connection {
  readonly socket: Socket;
  readonly calls: Set<BrokerCall>;
  corked: boolean;
  closed: boolean;
}

class Broker {
  readonly #data: BrokerData;
  readonly #control: Int32Array;
  readonly #cores = new Map<number, SharedCore>();
  readonly #parked = new Map<number, (() => void)[]>();
  readonly #failed = new Map<number, Error>();
  readonly #buffers = new Map<string, Named>();
  readonly #replyChannels = new Map<number, BroadcastChannel>();
  readonly #connections = new Set<Connection>();
  readonly #service: ServiceCore;
  #server: Server | null = null;
  #channel: BroadcastChannel | null = null;
  // Registrations may need a module import first: keep them in order.
  #registering: Promise<void> = Promise.resolve();
  #library: Promise<unknown> | null = null;

  constructor(data: BrokerData) {
    this.#data = data;
    this.#control = new Int32Array(data.control);
    this.#service = new ServiceCore(this);
  }

  async start(): Promise<void> {
    parentPort!.on('message', (msg: ToBroker) => this.#onMessage(msg));
    this.#channel = new BroadcastChannel(`mp-ts:${this.#data.token}:broker`);
    this.#channel.onmessage = (event) => this.#onMessage((event as MessageEvent).data as ToBroker);
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#data.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    Atomics.store(this.#control, kControl.state, kState.ready);
    notify(this.#control, kControl.state);
  }

  #onMessage(msg: ToBroker): void {
    switch (msg.t) {
      case 'register':
        this.#registering = this.#registering.then(() =>
          this.#register(msg.id, msg.kind, msg.state, msg.moduleUrl),
        );
        return;
      case 'state':
        this.#answerThread(msg.reply, () =>
          this.#withCore(msg.id, (core) => ({ kind: core.kind, state: core.state })),
        );
        return;
      case 'publish':
        this.#answerThread(msg.reply, () =>
          this.publish(msg.name, msg.buffer, msg.size, msg.description),
        );
        return;
      case 'lookup':
        this.#answerThread(msg.reply, () => {
          const { buffer, description } = this.#named(msg.name);
          return { buffer, description };
        });
        return;
      case 'unpublish':
        this.#answerThread(msg.reply, () => this.unpublish(msg.name));
        return;
      case 'stop':
        this.stop();
        return;
      default:
        throw new Error(`assertion failed: unknown broker message ${(msg as { t: string }).t}`);
    }
  }

  async #register(
    id: number,
    kind: string,
    state: CoreState,
    moduleUrl: string | undefined,
  ): Promise<void> {
    try {
      // Every library primitive registers its core when its module loads: those modules are
      // imported on first need, so the broker starts fast (named buffers need none of them).
      if (!hasCore(kind))
        await (this.#library ??= import('../reduction/kinds.ts').then((k) => k.loadAllCores()));
      if (!hasCore(kind) && moduleUrl) {
        await ensureTypeScript(moduleUrl);
        await import(moduleUrl);
      }
      this.#cores.set(id, createCore(kind, state));
    } catch (error) {
      // Calls on it fail with this reason (register the kind with its module URL to fix it).
      this.#failed.set(
        id,
        new Error(
          `the broker cannot create a core of kind '${kind}': ${(error as Error)?.message ?? error}`,
          { cause: error },
        ),
      );
    }
    const waiters = this.#parked.get(id);
    if (waiters) {
      this.#parked.delete(id);
      for (const wake of waiters) wake();
    }
  }

  /** Runs `fn` with core `id`, waiting for its registration if it is on its way. */
  #withCore<T>(id: number, fn: (core: SharedCore) => T): T | Promise<T> {
    const core = id === 0 ? this.#service : this.#cores.get(id);
    if (core) return fn(core);
    const failed = this.#failed.get(id);
    if (failed) throw failed;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.#parked.get(id);
        list?.splice(list.indexOf(wake), 1);
        reject(new Error(`assertion failed: the broker has no core #${id}`));
      }, kParkMs);
      const wake = () => {
        clearTimeout(timer);
        const found = this.#cores.get(id);
        if (found) resolve(fn(found));
        else reject(this.#failed.get(id) ?? new Error(`assertion failed: no core #${id}`));
      };
      const list = this.#parked.get(id);
      if (list) list.push(wake);
      else this.#parked.set(id, [wake]);
    });
  }

  #answerThread(reply: ReplyTo, fn: () => unknown): void {
    const send = (answer: ThreadReply) => {
      let channel = this.#replyChannels.get(reply.thread);
      if (!channel) {
        channel = new BroadcastChannel(`mp-ts:${this.#data.token}:reply:${reply.thread}`);
        channel.unref();
        this.#replyChannels.set(reply.thread, channel);
      }
      channel.postMessage(answer);
      const slot = new Int32Array(reply.slot);
      Atomics.store(slot, 0, 1);
      notify(slot, 0);
    };
    const fail = (error: unknown) =>
      send({ seq: reply.seq, ok: false, error: serializeError(error) });
    try {
      const value = fn();
      if (value instanceof Promise)
        value.then((v) => send({ seq: reply.seq, ok: true, value: v }), fail);
      else send({ seq: reply.seq, ok: true, value });
    } catch (error) {
      fail(error);
    }
  }

  publish(
    name: string,
    buffer: SharedArrayBuffer,
    size = buffer.byteLength,
    description: unknown = undefined,
  ): void {
    if (this.#buffers.has(name))
      throw new FileExistsError(`a shared buffer named '${name}' already exists`);
    this.#buffers.set(name, { buffer, size, description, handle: null });
  }

  unpublish(name: string): void {
    this.#named(name);
    this.#buffers.delete(name);
  }

  #named(name: string): Named {
    const entry = this.#buffers.get(name);
    if (!entry) throw new FileNotFoundError(`no shared buffer named '${name}'`);
    return entry;
  }

  /** How another process of the program can map named buffer `name`, if its memory can be mapped. */
  description(name: string): unknown {
    return this.#named(name).description;
  }

  /** The handle children use for named buffer `name` (its core is registered on first use). */
  bufferHandle(name: string): CoreHandle {
    const entry = this.#named(name);
    if (!entry.handle) {
      const id = Atomics.add(this.#control, kControl.nextId, 1);
      const core = BufferCore.over(entry.buffer, entry.size);
      this.#cores.set(id, core);
      entry.handle = {
        kind: kBufferKind,
        id,
        address: this.#data.address,
        pid: this.#data.pid,
        meta: core.state.meta,
      };
    }
    return entry.handle;
  }

  #accept(socket: Socket): void {
    const conn: Connection = { socket, calls: new Set(), corked: false, closed: false };
    this.#connections.add(conn);
    const reader = new FrameReader((body) => this.#dispatch(conn, body));
    socket.on('data', (chunk) => reader.push(chunk));
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => {
      conn.closed = true;
      this.#connections.delete(conn);
      for (const call of conn.calls) call.controller?.abort(new Error('the caller disconnected'));
      conn.calls.clear();
    });
  }

  #dispatch(conn: Connection, body: Buffer): void {
    let frame: CallFrame;
    try {
      frame = decodeBody(body) as CallFrame;
    } catch (error) {
      process.stderr.write(`multiprocessing-ts broker: bad frame: ${(error as Error).message}\n`);
      conn.socket.destroy();
      return;
    }
    const [id, coreId, method, args] = frame;
    const core = coreId === 0 ? this.#service : this.#cores.get(coreId);
    if (core) this.#run(conn, id, core, method, args);
    else
      Promise.resolve()
        .then(() => this.#withCore(coreId, (c) => c))
        .then(
          (c) => this.#run(conn, id, c, method, args),
          (error) => this.#reply(conn, id, false, error),
        );
  }

  #run(conn: Connection, id: number, core: SharedCore, method: string, args: readonly unknown[]) {
    const target = core as unknown as Record<string, unknown>;
    let name = method;
    if (name.endsWith('Sync')) {
      const twin = `${name.slice(0, -4)}Async`;
      if (typeof target[twin] === 'function') name = twin;
    } else if (name.endsWith('Async') && typeof target[name] !== 'function') {
      // `xAsync` of a plain method `x`: a child's non-blocking form of it.
      name = name.slice(0, -5);
    }
    const fn = target[name];
    if (typeof fn !== 'function' || name === 'constructor') {
      this.#reply(
        conn,
        id,
        false,
        new TypeError(`a core of kind '${core.kind}' has no method '${method}'`),
      );
      return;
    }
    const call: BrokerCall = { controller: undefined };
    let result: unknown;
    try {
      result = withCall(call, () => (fn as Function).apply(core, args));
    } catch (error) {
      this.#reply(conn, id, false, error);
      return;
    }
    if (result instanceof Promise) {
      conn.calls.add(call);
      result.then(
        (value) => {
          conn.calls.delete(call);
          this.#reply(conn, id, true, value);
        },
        (error) => {
          conn.calls.delete(call);
          this.#reply(conn, id, false, error);
        },
      );
    } else this.#reply(conn, id, true, result);
  }

  #reply(conn: Connection, id: number, ok: boolean, value: unknown): void {
    if (conn.closed) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(ok ? [id, true, value] : [id, false, serializeError(value)]);
    } catch (error) {
      const clone = new DataCloneError(
        `Cannot send the result of a core method back to the child: ${(error as Error).message}`,
      );
      frame = encodeFrame([id, false, serializeError(clone)]);
    }
    // Replies produced in one tick leave in one write.
    if (!conn.corked) {
      conn.corked = true;
      conn.socket.cork();
      process.nextTick(() => {
        conn.corked = false;
        conn.socket.uncork();
      });
    }
    conn.socket.write(frame);
  }

  stop(): void {
    this.#server?.close();
    for (const conn of this.#connections) conn.socket.destroy();
    this.#channel?.close();
    for (const channel of this.#replyChannels.values()) channel.close();
    Atomics.store(this.#control, kControl.state, kState.stopped);
    notify(this.#control, kControl.state);
    rmSync(this.#data.dir, { recursive: true, force: true });
    // Pending async core waits must not keep the thread alive.
    process.exit(0);
  }
}

/**
 * Entry point of the broker thread (called by entry.mjs with its workerData).
 * @example
 * new Worker(kHelperEntry, { workerData: { moduleUrl: serverUrl, ...brokerData } })
 */
export async function main(data: BrokerData): Promise<void> {
  const broker = new Broker(data);
  try {
    await broker.start();
  } catch (error) {
    process.stderr.write(
      `multiprocessing-ts: the broker thread failed to start:\n${(error as Error)?.stack ?? error}\n`,
    );
    const control = new Int32Array(data.control);
    Atomics.store(control, kControl.state, kState.failed);
    notify(control, kControl.state);
    process.exit(1);
  }
}
