// Pipe() and Connection: Python's message pipes over two channel cores.
import { isMainThread } from 'node:worker_threads';
import { BufferTooShort, EOFError, InvalidStateError } from './errors.ts';
import {
  type Destination,
  type Reducible,
  kReduce,
  noteReducible,
  registerReviver,
} from './reduction/values.ts';
import { type GetResult, Role, Status } from './queues/channel-steps.ts';
import { itemBytes } from './queues/codec.ts';
import { keepAlive } from './shared/atomics.ts';
import { cloneFailure, decodeItem, encodeItem, itemWalked } from './queues/items.ts';
import {
  type Channel,
  type ChannelHandle,
  newChannel,
  reduceChannel,
  reviveChannel,
} from './queues/share.ts';
import { kChannel } from './queues.ts';
import { registerReleaser, reportHolding, reportReleased } from './runtime/holdings.ts';
import { state } from './runtime/state.ts';
import { checkBoolean, checkInteger, checkTimeout, invalidArg, outOfRange } from './validate.ts';

const kKind = 'mp.Connection';
const kNew = Symbol('new');

interface ConnectionHandle {
  readonly recv: ChannelHandle | null;
  readonly send: ChannelHandle | null;
}

/** What one holder holds of a pipe: released on close(), when the object is collected, or at worker exit. */
interface Holding {
  recv: Channel | null;
  send: Channel | null;
  /** The report to the parent thread (runtime/holdings.ts), so a killed thread still lets go. */
  report: number | null;
}

const kHoldingKind = 'mp.Connection';

function release(h: Holding): void {
  const { recv, send } = h;
  h.recv = h.send = null;
  reportReleased(h.report);
  h.report = null;
  recv?.dropHolder(Role.Reader);
  send?.dropHolder(Role.Writer);
}

registerReleaser(kHoldingKind, (s: ConnectionHandle) => {
  (s.recv && reviveChannel(s.recv))?.dropHolder(Role.Reader);
  (s.send && reviveChannel(s.send))?.dropHolder(Role.Writer);
});

// Connections are held like file descriptors: a holder that forgets to close() still lets the
// peer see EOF once the object is collected, and a worker's holdings are released at its exit.
const holdings = new Set<Holding>();
const collected = new FinalizationRegistry<Holding>((h) => {
  holdings.delete(h);
  release(h);
});
let exitHook = false;
function trackAtExit(): void {
  if (exitHook || (isMainThread && state().isMain)) return;
  exitHook = true;
  process.on('exit', () => {
    for (const h of holdings) release(h);
    holdings.clear();
  });
}

function wrongWay(readable: boolean): InvalidStateError {
  return readable
    ? new InvalidStateError('connection is read-only', 'ERR_READ_ONLY')
    : new InvalidStateError('connection is write-only', 'ERR_WRITE_ONLY');
}

function asBytes(buf: unknown, name: string): Uint8Array {
  if (buf instanceof ArrayBuffer || buf instanceof SharedArrayBuffer) return new Uint8Array(buf);
  if (ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return invalidArg(name, 'an ArrayBuffer, a TypedArray, a DataView or a Buffer', buf);
}

/**
 * One end of a {@link Pipe}, as Python's `multiprocessing.connection.Connection`. It travels to
 * workers inside Process/Pool arguments or queue items. `close()` closes this holder's handle
 * only: the other end sees EOF once every holder of this end has closed it or exited.
 * @example
 * const [parent, child] = mp.Pipe<string>()
 * child.send('hi')
 * console.log(await parent.recv()) // 'hi'
 */
export class Connection<T = unknown> implements Reducible {
  #held: Holding;
  readonly #canRead: boolean;
  readonly #canWrite: boolean;
  #readBroken = false;
  #closed = false;

  /** @internal Connections come from {@link Pipe} or from travel. */
  constructor(token: typeof kNew, recv: Channel | null, send: Channel | null) {
    if (token !== kNew) throw new TypeError('Connections are created with mp.Pipe()');
    this.#held = {
      recv,
      send,
      report: reportHolding(kHoldingKind, (destination) => ({
        recv: recv && reduceChannel(recv, destination),
        send: send && reduceChannel(send, destination),
      })),
    };
    this.#canRead = recv !== null;
    this.#canWrite = send !== null;
    holdings.add(this.#held);
    collected.register(this, this.#held, this.#held);
    trackAtExit();
    noteReducible();
  }

  /** @internal */
  static create<T>(recv: Channel | null, send: Channel | null): Connection<T> {
    return new Connection<T>(kNew, recv, send);
  }

  /** Whether this handle has been closed. */
  get closed(): boolean {
    return this.#closed;
  }
  /** Whether this end can receive (false for the write-only end of a one-way pipe). */
  get readable(): boolean {
    return this.#canRead && !this.#readBroken;
  }
  /** Whether this end can send (false for the read-only end of a one-way pipe). */
  get writable(): boolean {
    return this.#canWrite;
  }

  #open(): void {
    if (this.#closed) throw new InvalidStateError('handle is closed', 'ERR_CLOSED');
  }
  #sender(): Channel {
    this.#open();
    if (!this.#canWrite) throw wrongWay(true);
    return this.#held.send!;
  }
  #receiver(): Channel {
    this.#open();
    if (!this.readable) throw wrongWay(false);
    return this.#held.recv!;
  }

  #deliver(value: unknown, walked: boolean, raw: boolean): void {
    let s: Status;
    try {
      s = this.#sender().putNowait(value, walked, raw);
    } catch (e) {
      cloneFailure(e, 'this object through a pipe');
    }
    if (s === Status.Broken) {
      throw new InvalidStateError(
        'broken pipe: every holder of the other end has closed it',
        'ERR_BROKEN_PIPE',
      );
    }
  }

  /** Sends an object (structured-cloned; library objects travel as handles). Never blocks. */
  send(obj: T): void {
    this.#sender();
    const value = encodeItem(obj);
    this.#deliver(value, itemWalked(), false);
  }

  /**
   * Sends `size` bytes of `buf` from byte `offset` as one message. RangeErrors as Python's
   * ValueErrors: negative offset or size, or a range past the end of the buffer.
   */
  sendBytes(buf: ArrayBufferLike | ArrayBufferView, offset = 0, size?: number): void {
    this.#sender();
    const bytes = asBytes(buf, 'buf');
    checkInteger(offset, 'offset', Number.MIN_SAFE_INTEGER);
    if (offset < 0) outOfRange('offset', 'non-negative (offset is negative)', offset);
    if (offset > bytes.byteLength)
      outOfRange('offset', `at most the buffer length ${bytes.byteLength}`, offset);
    if (size !== undefined) {
      checkInteger(size, 'size', Number.MIN_SAFE_INTEGER);
      if (size < 0) outOfRange('size', 'non-negative (size is negative)', size);
      if (offset + size > bytes.byteLength)
        outOfRange('size', `at most buffer length - offset = ${bytes.byteLength - offset}`, size);
    }
    const end = size === undefined ? bytes.byteLength : offset + size;
    this.#deliver(bytes.subarray(offset, end), false, true);
  }

  #item(r: GetResult): T {
    if (r.s === Status.Ok) return decodeItem(r) as T;
    throw new EOFError();
  }

  /** Receives the next object; rejects with {@link EOFError} once the peer closed and all is read. */
  async recv(): Promise<T> {
    return this.#item(await this.#receiver().getAsync(undefined));
  }

  /** As {@link recv}, blocking the calling thread (meant for workers). */
  recvSync(): T {
    return this.#item(this.#receiver().getSync(undefined));
  }

  /** The next message as bytes (a message sent with send() comes as its v8 serialization). */
  async #nextBytes(): Promise<Buffer> {
    const item = this.#item(await this.#receiver().getAsync(undefined)) as unknown;
    if (item instanceof Uint8Array)
      return Buffer.from(item.buffer, item.byteOffset, item.byteLength);
    return itemBytes(item);
  }

  /**
   * Receives one message as bytes. A message longer than `maxLength` is consumed and raises a
   * RangeError (`ERR_BAD_MESSAGE_LENGTH`), after which this end is no longer readable, as in Python.
   */
  async recvBytes(maxLength?: number): Promise<Buffer> {
    if (maxLength !== undefined) {
      checkInteger(maxLength, 'maxLength', Number.MIN_SAFE_INTEGER);
      if (maxLength < 0) outOfRange('maxLength', 'non-negative (negative maxlength)', maxLength);
    }
    const bytes = await this.#nextBytes();
    if (maxLength !== undefined && bytes.byteLength > maxLength) {
      this.#readBroken = true;
      throw Object.assign(
        new RangeError(
          `bad message length: the message has ${bytes.byteLength} bytes, more than maxLength ${maxLength}`,
        ),
        { code: 'ERR_BAD_MESSAGE_LENGTH' },
      );
    }
    return bytes;
  }

  /**
   * Receives one message into `buf` from byte `offset`; resolves to its length. A message that
   * does not fit is consumed and rejects with {@link BufferTooShort} carrying it as `data`.
   */
  async recvBytesInto(buf: ArrayBufferLike | ArrayBufferView, offset = 0): Promise<number> {
    const target = asBytes(buf, 'buf');
    checkInteger(offset, 'offset', Number.MIN_SAFE_INTEGER);
    if (offset < 0) outOfRange('offset', 'non-negative (negative offset)', offset);
    if (offset > target.byteLength)
      outOfRange(
        'offset',
        `at most the buffer length ${target.byteLength} (offset too large)`,
        offset,
      );
    const bytes = await this.#nextBytes();
    if (bytes.byteLength > target.byteLength - offset) throw new BufferTooShort(bytes);
    target.set(bytes, offset);
    return bytes.byteLength;
  }

  /**
   * Whether a message (or EOF) is ready to read, waiting up to `timeout` ms: 0 by default
   * (returns at once), Infinity waits forever.
   */
  async poll(timeout = 0): Promise<boolean> {
    checkTimeout(timeout);
    const receiver = this.#receiver();
    if (timeout === undefined) timeout = 0;
    if (timeout <= 0) return receiver.pollAsync(0);
    const done = keepAlive();
    try {
      return await receiver.pollAsync(timeout);
    } finally {
      done();
    }
  }

  /** As {@link poll}, blocking the calling thread (meant for workers). */
  pollSync(timeout = 0): boolean {
    checkTimeout(timeout);
    return this.#receiver().pollSync(timeout ?? 0);
  }

  /** Closes this holder's handle (idempotent); the peer sees EOF once every holder has. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    holdings.delete(this.#held);
    collected.unregister(this.#held);
    release(this.#held);
  }

  /** Closes the handle (`using conn = ...`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Yields received objects until EOF. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const r = await this.#receiver().getAsync(undefined);
      if (r.s !== Status.Ok) return;
      yield decodeItem(r) as T;
    }
  }

  /** @internal The channels to wait on (wait()). */
  get [kChannel](): Channel {
    return this.#receiver();
  }

  /** @internal Travels as its channels; the receiver becomes one more holder of this end. */
  [kReduce](destination: Destination): { kind: string; state: ConnectionHandle } {
    this.#open();
    const recv = this.readable ? this.#held.recv : null;
    const send = this.#held.send;
    recv?.addHolder(Role.Reader);
    send?.addHolder(Role.Writer);
    return {
      kind: kKind,
      state: {
        recv: recv && reduceChannel(recv, destination),
        send: send && reduceChannel(send, destination),
      },
    };
  }
}

registerReviver(kKind, (s: ConnectionHandle) =>
  Connection.create(s.recv && reviveChannel(s.recv), s.send && reviveChannel(s.send)),
);

/**
 * Creates a pipe and returns its two ends. Duplex (the default): both ends send and receive.
 * `duplex = false`: the first end only receives, the second only sends.
 * @example
 * const [a, b] = mp.Pipe<number>()
 * a.send(1); console.log(await b.recv()) // 1
 */
export function Pipe<T = unknown>(duplex = true): [Connection<T>, Connection<T>] {
  checkBoolean(duplex, 'duplex');
  if (!duplex) {
    const ch = newChannel('pipe', 0);
    return [Connection.create<T>(ch, null), Connection.create<T>(null, ch)];
  }
  const ab = newChannel('pipe', 0);
  const ba = newChannel('pipe', 0);
  return [Connection.create<T>(ba, ab), Connection.create<T>(ab, ba)];
}
