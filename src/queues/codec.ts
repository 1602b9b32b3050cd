// How one item is laid out as a record in a channel's ring: fast paths for numbers, strings and bytes, v8 for the rest.
import { deserialize, serialize } from 'node:v8';

/** Record tags (the second word of a record header). */
export const enum Tag {
  Number = 1,
  Ascii = 2,
  Utf8 = 3,
  True = 4,
  False = 5,
  Null = 6,
  Undefined = 7,
  Bytes = 8,
  V8 = 9,
  V8Walked = 10,
}

/** Typed views over a channel's data region (recreated when the region grows). */
export interface DataViews {
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly buf: Buffer;
}

/** Views over `bytes` bytes of `sab` starting at `offset` (8-aligned). */
export function viewsOf(sab: SharedArrayBuffer, offset: number, bytes: number): DataViews {
  return {
    u8: new Uint8Array(sab, offset, bytes),
    i32: new Int32Array(sab, offset, bytes >> 2),
    f64: new Float64Array(sab, offset, bytes >> 3),
    buf: Buffer.from(sab, offset, bytes),
  };
}

const kShortString = 64;

/** The outcome of {@link prepare}: what to write, computed before taking the channel's lock. */
export interface Prepared {
  tag: Tag;
  /** Payload bytes (without the 8-byte record header). */
  size: number;
  value: unknown;
  /** Serialized payload for Tag.V8/V8Walked, the bytes themselves for Tag.Bytes. */
  bytes: Uint8Array | null;
}

/** One reusable Prepared per thread: put() is not re-entrant between prepare and write. */
const scratch: Prepared = { tag: Tag.Null, size: 0, value: null, bytes: null };

/**
 * Classifies `value` and serializes it if no fast path applies. `asBytes` stores a Uint8Array
 * as raw bytes (Connection.sendBytes); `walked` says decode() must rebuild handles on arrival.
 * Throws v8's clone error for values that cannot be cloned.
 */
export function prepare(value: unknown, walked: boolean, asBytes = false): Prepared {
  const p = scratch;
  p.value = value;
  p.bytes = null;
  p.size = 0;
  if (asBytes) {
    p.tag = Tag.Bytes;
    p.bytes = value as Uint8Array;
    p.size = p.bytes.byteLength;
    return p;
  }
  switch (typeof value) {
    case 'number':
      p.tag = Tag.Number;
      p.size = 8;
      return p;
    case 'string': {
      const s = value as string;
      if (s.length <= kShortString) {
        let ascii = true;
        for (let i = 0; i < s.length; i++) {
          if (s.charCodeAt(i) > 0x7f) {
            ascii = false;
            break;
          }
        }
        if (ascii) {
          p.tag = Tag.Ascii;
          p.size = s.length;
          return p;
        }
      }
      p.tag = Tag.Utf8;
      p.size = Buffer.byteLength(s, 'utf8');
      return p;
    }
    case 'boolean':
      p.tag = value ? Tag.True : Tag.False;
      return p;
    case 'undefined':
      p.tag = Tag.Undefined;
      return p;
    default:
      if (value === null) {
        p.tag = Tag.Null;
        return p;
      }
  }
  const bytes = serialize(value);
  p.tag = walked ? Tag.V8Walked : Tag.V8;
  p.bytes = bytes;
  p.size = bytes.byteLength;
  return p;
}

/** Writes the payload of `p` at byte `at` of the data region (the header is the caller's). */
export function writePayload(v: DataViews, at: number, p: Prepared): void {
  switch (p.tag) {
    case Tag.Number:
      v.f64[at >> 3] = p.value as number;
      return;
    case Tag.Ascii: {
      const s = p.value as string;
      const u8 = v.u8;
      for (let i = 0; i < s.length; i++) u8[at + i] = s.charCodeAt(i);
      return;
    }
    case Tag.Utf8:
      v.buf.write(p.value as string, at, p.size, 'utf8');
      return;
    case Tag.Bytes:
    case Tag.V8:
    case Tag.V8Walked:
      v.u8.set(p.bytes!, at);
      return;
    default:
      return;
  }
}

/**
 * Reads the payload at `at`. For v8 records it returns a private copy of the bytes, to be
 * passed to {@link finish} after the lock is released.
 */
export function readPayload(v: DataViews, at: number, tag: Tag, size: number): unknown {
  switch (tag) {
    case Tag.Number:
      return v.f64[at >> 3];
    case Tag.Ascii:
      return v.buf.toString('latin1', at, at + size);
    case Tag.Utf8:
      return v.buf.toString('utf8', at, at + size);
    case Tag.True:
      return true;
    case Tag.False:
      return false;
    case Tag.Null:
      return null;
    case Tag.Undefined:
      return undefined;
    case Tag.Bytes: {
      const copy = v.u8.slice(at, at + size);
      return Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength);
    }
    case Tag.V8:
    case Tag.V8Walked:
      return v.u8.slice(at, at + size);
    default:
      throw new Error(`assertion failed: unknown record tag ${tag as number}`);
  }
}

/** Turns what readPayload returned into the item (deserializes v8 records). */
export function finish(tag: Tag, raw: unknown): unknown {
  return tag === Tag.V8 || tag === Tag.V8Walked ? deserialize(raw as Uint8Array) : raw;
}

/** The v8 bytes of any item (recvBytes on a record sent with send()). */
export function itemBytes(item: unknown): Buffer {
  return serialize(item);
}
