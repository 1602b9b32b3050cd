// The broker's wire format: length-prefixed v8 frames over a local socket, and the messages they carry.
import { DefaultDeserializer, DefaultSerializer } from 'node:v8';
import type { CoreState } from '../shared/core.ts';
import type { SerializedError } from '../reduction/errors.ts';

/**
 * A call on a core, from a child process to the broker: `[id, coreId, method, args]`.
 * Id 0 of `coreId` is the broker's own service core (named buffers).
 */
export type CallFrame = readonly [
  id: number,
  core: number,
  method: string,
  args: readonly unknown[],
];

/** The broker's answer to one {@link CallFrame}: `[id, true, value]` or `[id, false, error]`. */
export type ReplyFrame =
  | readonly [id: number, ok: true, value: unknown]
  | readonly [id: number, ok: false, error: SerializedError];

/** What a child needs to reach a core owned by another process (small and cloneable). */
export interface CoreHandle {
  /** The core's registry key, as in `registerCore(kind, …)`. */
  readonly kind: string;
  /** The core's number in its owner's broker. */
  readonly id: number;
  /** The broker's socket path (or Windows pipe name); unique per broker run. */
  readonly address: string;
  /** The owner process (where the buffers live). */
  readonly pid: number;
  /** The core's immutable metadata (`state.meta`), readable without a round trip. */
  readonly meta: unknown;
}

/** Messages from threads of the owner process to its broker thread (port or BroadcastChannel). */
export type ToBroker =
  | {
      readonly t: 'register';
      readonly id: number;
      readonly kind: string;
      readonly state: CoreState;
      readonly moduleUrl: string | undefined;
    }
  | { readonly t: 'state'; readonly id: number; readonly reply: ReplyTo }
  | {
      readonly t: 'publish';
      readonly name: string;
      readonly buffer: SharedArrayBuffer;
      /** The bytes asked for (a buffer of some memories is longer). */
      readonly size: number;
      /** What another thread of this process needs to adopt the buffer (describeShared). */
      readonly description: unknown;
      readonly reply: ReplyTo;
    }
  | { readonly t: 'lookup'; readonly name: string; readonly reply: ReplyTo }
  | { readonly t: 'unpublish'; readonly name: string; readonly reply: ReplyTo }
  | { readonly t: 'stop' };

/** Where a thread waits for the broker's answer: its reply channel and the word it sleeps on. */
export interface ReplyTo {
  readonly thread: number;
  readonly slot: SharedArrayBuffer;
  /** Matches the answer to the request (a request that timed out may be answered late). */
  readonly seq: number;
}

/** The broker's answer to a thread's request. */
export type ThreadReply =
  | { readonly seq: number; readonly ok: true; readonly value: unknown }
  | { readonly seq: number; readonly ok: false; readonly error: SerializedError };

/** Layout of the control block every thread of the owner process shares (Int32 words). */
export const kControl = {
  /** One of the kState values. */
  state: 0,
  /** Next core id (ids start at 1; 0 is the service core). */
  nextId: 1,
  /** Byte length of the address stored at `addressOffset`. */
  addressLength: 2,
  /** Bumped on every broker start: handles minted before a stop are stale. */
  generation: 3,
  /** Byte offset of the address text. */
  addressOffset: 64,
  /** Total size of the control block in bytes. */
  size: 64 + 1024,
} as const;

/** Word indexes of a sync bridge's flag (an Int32Array shared by the caller and its helper). */
export const kBridgeFlag = {
  /** Set to 1 when a reply (or a `gone` message) is on the port; the caller sleeps on it. */
  reply: 0,
  /** Set to 1 once the helper runs with its error handlers installed. */
  running: 1,
  /** Words in the flag. */
  words: 2,
} as const;

/** Values of the control block's `state` word. */
export const kState = { stopped: 0, starting: 1, ready: 2, failed: 3 } as const;

const kLengthPrefix = 4;
const kZero = Buffer.alloc(kLengthPrefix);

/**
 * Serializes one message into a frame: 4-byte little-endian length, then v8 bytes (one allocation).
 * @example
 * socket.write(encodeFrame([1, 7, 'release', []]))
 */
export function encodeFrame(message: unknown): Buffer {
  const serializer = new DefaultSerializer();
  serializer.writeRawBytes(kZero);
  serializer.writeHeader();
  serializer.writeValue(message);
  const frame = serializer.releaseBuffer();
  frame.writeUInt32LE(frame.length - kLengthPrefix, 0);
  return frame;
}

/**
 * Deserializes the body of a frame (without its length prefix).
 * @example
 * const reply = decodeBody(body) as ReplyFrame
 */
export function decodeBody(body: Uint8Array): unknown {
  const deserializer = new DefaultDeserializer(body as Buffer);
  deserializer.readHeader();
  return deserializer.readValue();
}

/**
 * Splits a byte stream into frame bodies. Most chunks hold whole frames: those are sliced, not
 * copied. A frame that spans chunks (a big queue item arrives in 64 KiB chunks) is gathered in a
 * list and joined once, when its last byte is there: joining on every chunk made a 16 MB item
 * cost seconds (quadratic copying).
 * @example
 * const reader = new FrameReader((body) => handle(decodeBody(body)))
 * socket.on('data', (chunk) => reader.push(chunk))
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #size = 0;
  /** Bytes that must be buffered before the first pending frame can be complete. */
  #need = kLengthPrefix;
  readonly #onFrame: (body: Buffer) => void;

  constructor(onFrame: (body: Buffer) => void) {
    this.#onFrame = onFrame;
  }

  /** Feeds a chunk; calls `onFrame` once per complete frame, in order. */
  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#size < this.#need) return;
    let buf = this.#chunks.length === 1 ? chunk : Buffer.concat(this.#chunks, this.#size);
    this.#chunks = [];
    this.#size = 0;
    this.#need = kLengthPrefix;
    let offset = 0;
    while (buf.length - offset >= kLengthPrefix) {
      const length = buf.readUInt32LE(offset);
      const end = offset + kLengthPrefix + length;
      if (end > buf.length) {
        this.#need = kLengthPrefix + length;
        break;
      }
      this.#onFrame(buf.subarray(offset + kLengthPrefix, end));
      offset = end;
    }
    if (offset < buf.length) {
      // Keep the tail as its own copy so the (possibly large) chunk it came from can be freed.
      buf = Buffer.from(buf.subarray(offset));
      this.#chunks.push(buf);
      this.#size = buf.length;
    }
  }
}
