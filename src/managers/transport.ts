// The manager's wire: private socket addresses, length-prefixed v8 frames, the authkey handshake and per-thread client connections.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { type Socket, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { AuthenticationError, InvalidStateError } from '../errors.ts';
import { type SerializedError, deserializeError } from '../reduction/errors.ts';
import type { FnRef } from '../reduction/functions.ts';
import { reviveFunction } from '../reduction/revive.ts';
import { decode } from '../reduction/values.ts';

/** A request from a proxy (or manager) to the object server. */
export type Request =
  | {
      readonly t: 'create';
      readonly rid: number;
      readonly typeid: string;
      readonly args: unknown;
      readonly walked: boolean;
    }
  | {
      readonly t: 'call';
      readonly rid: number;
      readonly id: string;
      readonly method: string;
      readonly args: unknown;
      readonly walked: boolean;
    };

/** What the server answers: a value (encoded, handles possibly inside) or an error. */
export type Reply =
  | { readonly t: 'ok'; readonly rid: number; readonly value: unknown; readonly walked: boolean }
  | {
      readonly t: 'err';
      readonly rid: number;
      readonly error: SerializedError;
      /** The error's own class, when it is defined in a module the client can import. */
      readonly cls?: FnRef | undefined;
    };

/** The handshake: the server challenges, the client answers with an HMAC of the nonce. */
export type Handshake =
  | { readonly t: 'challenge'; readonly nonce: Uint8Array }
  | { readonly t: 'answer'; readonly digest: Uint8Array }
  | { readonly t: 'welcome' }
  | { readonly t: 'rejected' };

const kHeader = 4;
/** How long a client waits for the server's handshake before giving up. */
const kHandshakeTimeout = 10_000;

/** A fresh private address: a socket in a new 0700 temp directory (a named pipe on Windows). */
export function privateAddress(): { address: string; dir: string | null } {
  if (process.platform === 'win32') {
    return { address: `\\\\?\\pipe\\mp-manager-${randomBytes(8).toString('hex')}`, dir: null };
  }
  // mkdtemp creates the directory with mode 0700: only this user can reach the socket.
  const dir = mkdtempSync(join(tmpdir(), 'mp-manager-'));
  return { address: join(dir, 'manager.sock'), dir };
}

/** Removes a private address's directory (idempotent). */
export function removeAddress(dir: string | null): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Serializes one message as a length-prefixed frame. */
export function frame(message: unknown): Buffer {
  const body = serialize(message);
  const header = Buffer.allocUnsafe(kHeader);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** Calls `onMessage` for each complete frame arriving on `socket`. */
export function readFrames(socket: Socket, onMessage: (message: unknown) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= kHeader) {
      const size = buffered.readUInt32BE(0);
      if (buffered.length < kHeader + size) break;
      const body = buffered.subarray(kHeader, kHeader + size);
      buffered = buffered.subarray(kHeader + size);
      onMessage(deserialize(body));
    }
  });
}

/** The digest a client must send for `nonce` (HMAC-SHA256 keyed with the authkey, as Python's). */
export function digestOf(authkey: Uint8Array, nonce: Uint8Array): Buffer {
  return createHmac('sha256', authkey).update(nonce).digest();
}

/** Whether `digest` answers `nonce` for `authkey` (constant-time). */
export function verifyDigest(authkey: Uint8Array, nonce: Uint8Array, digest: unknown): boolean {
  if (!(digest instanceof Uint8Array)) return false;
  const expected = digestOf(authkey, nonce);
  return digest.length === expected.length && timingSafeEqual(digest, expected);
}

/** The error every proxy call gets once its manager is gone (shut down, or its worker died). */
export function closedError(address: string, cause?: unknown): InvalidStateError {
  return new InvalidStateError(
    `the manager at ${address} is not running: it has been shut down or its server died`,
    'ERR_CLOSED',
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Rebuilds a server error: as deserializeError does (built-in and library classes, else the
 * name), then, for a user's error class defined in an importable module, as that very class.
 */
async function rebuildError(serialized: SerializedError, cls: FnRef | undefined): Promise<unknown> {
  const error = deserializeError(serialized);
  if (!cls || !(error instanceof Error) || ('url' in cls && cls.url === mainModuleUrl()))
    return error;
  try {
    const Class = await reviveFunction(cls);
    if (Class.prototype instanceof Error) Object.setPrototypeOf(error, Class.prototype);
  } catch {
    // Not exported, or not importable here: the error keeps its name, message and stack.
  }
  return error;
}

/**
 * The program's entry module, or null in a worker. Importing it from a proxy call made by its
 * own top-level await would wait forever, so its error classes arrive by name only.
 */
function mainModuleUrl(): string | null {
  if (!isMainThread || !process.argv[1]) return null;
  try {
    return pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return null;
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** One authenticated connection from this thread to a manager server; requests are pipelined. */
class ClientConnection {
  readonly #address: string;
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #ready: Promise<void>;
  #failure: unknown = null;
  #nextRid = 1;
  #inflight = 0;

  constructor(address: string, authkey: Uint8Array, onGone: () => void) {
    this.#address = address;
    const socket = (this.#socket = createConnection(address));
    let settleHandshake!: (error: unknown) => void;
    this.#ready = new Promise<void>((resolve, reject) => {
      settleHandshake = (error) => (error === null ? resolve() : reject(error));
    });
    // Nobody may be waiting on the handshake yet: keep an unobserved failure from crashing.
    this.#ready.catch(() => {});
    let greeted = false;
    const timer = setTimeout(
      () => this.#fail(closedError(address, new Error('no handshake from the server'))),
      kHandshakeTimeout,
    );
    timer.unref();
    readFrames(socket, (message) => {
      if (!greeted) {
        const hs = message as Handshake;
        if (hs.t === 'challenge') {
          socket.write(frame({ t: 'answer', digest: digestOf(authkey, hs.nonce) }));
        } else if (hs.t === 'welcome') {
          greeted = true;
          clearTimeout(timer);
          settleHandshake(null);
        } else if (hs.t === 'rejected') {
          this.#fail(new AuthenticationError('digest sent was rejected'));
        } else {
          throw new Error(`assertion failed: unexpected handshake message '${hs.t}'`);
        }
        return;
      }
      this.#settle(message as Reply);
    });
    const gone = (cause?: unknown) => {
      clearTimeout(timer);
      onGone();
      this.#fail(
        this.#failure ?? closedError(address, cause ?? new Error('the connection was closed')),
      );
      settleHandshake(this.#failure);
    };
    socket.on('error', (error) => gone(error));
    socket.on('close', () => gone());
  }

  #settle(reply: Reply): void {
    const pending = this.#pending.get(reply.rid);
    if (!pending) throw new Error(`assertion failed: reply to unknown request ${reply.rid}`);
    this.#pending.delete(reply.rid);
    if (reply.t === 'ok') {
      try {
        pending.resolve(decode(reply.value, reply.walked));
      } catch (error) {
        pending.reject(error);
      }
    } else if (reply.t === 'err') {
      void rebuildError(reply.error, reply.cls).then(pending.reject);
    } else {
      throw new Error(`assertion failed: unknown reply tag '${(reply as { t: string }).t}'`);
    }
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) pending.reject(this.#failure);
    this.#pending.clear();
    this.#socket.destroy();
  }

  /** Sends a request (its `rid` is filled in) and resolves with the decoded reply. */
  async request(message: Omit<Request, 'rid'>): Promise<unknown> {
    if (this.#failure) throw this.#failure;
    const rid = this.#nextRid++;
    // Serialize before waiting, so an uncloneable argument fails this call only.
    const bytes = frame({ ...message, rid });
    // A waiting request keeps Node alive; an idle connection does not.
    this.#inflight += 1;
    this.#socket.ref();
    try {
      await this.#ready;
      if (this.#failure) throw this.#failure;
      return await new Promise<unknown>((resolve, reject) => {
        this.#pending.set(rid, { resolve, reject });
        this.#socket.write(bytes);
      });
    } finally {
      this.#inflight -= 1;
      if (this.#inflight === 0) this.#socket.unref();
    }
  }

  /** Closes the connection; pending requests fail with the closed error. */
  close(): void {
    this.#fail(closedError(this.#address));
  }
}

// One connection per thread and address (this module is loaded once per thread).
const connections = new Map<string, ClientConnection>();

/** The connection of this thread to the server at `address`, opened on first use. */
export function connectionTo(address: string, authkey: Uint8Array): ClientConnection {
  let connection = connections.get(address);
  if (!connection) {
    const created = new ClientConnection(address, authkey, () => {
      if (connections.get(address) === created) connections.delete(address);
    });
    connections.set(address, (connection = created));
  }
  return connection;
}

/** Closes this thread's connection to `address`, if any. */
export function disconnect(address: string): void {
  connections.get(address)?.close();
  connections.delete(address);
}
