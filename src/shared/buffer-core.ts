// The core of a named shared buffer: byte reads and writes that work locally and, through the broker, from children.
import { type CoreState, type SharedCore, registerCore } from './core.ts';
import { checkInteger, describe, outOfRange } from '../validate.ts';

/** Registry kind of {@link BufferCore}. */
export const kBufferKind = 'mp:buffer';

/** Metadata of a {@link BufferCore} (`core.state.meta`, readable even on a remote core). */
export interface BufferMeta {
  /** Size of the buffer in bytes. */
  readonly size: number;
}

/**
 * A core over one SharedArrayBuffer: what `lookupBuffer()` returns in a child process (as a
 * remote core), and what SharedMemory shares with children. Every method is plain (never
 * waits), so in a child each call is one blocking round trip; `readAsync`/`writeAsync` are the
 * non-blocking forms. Sizes: `(core.state.meta as BufferMeta).size`.
 * @example
 * const core = new BufferCore({ buffers: [sab], meta: { size: sab.byteLength } })
 * core.write(0, Uint8Array.of(1, 2, 3))
 * core.read(0, 3) // Uint8Array [1, 2, 3] (a copy)
 */
export class BufferCore implements SharedCore {
  readonly kind = kBufferKind;
  readonly state: CoreState;
  readonly #bytes: Uint8Array;

  constructor(state: CoreState) {
    this.state = state;
    // The size, not the buffer's length: a mapped buffer is a whole number of wasm pages.
    this.#bytes = new Uint8Array(state.buffers[0]!, 0, (state.meta as BufferMeta).size);
  }

  /** A core over `buffer`. */
  static over(buffer: SharedArrayBuffer, size = buffer.byteLength): BufferCore {
    return new BufferCore({ buffers: [buffer], meta: { size } });
  }

  #range(offset: number, length: number): void {
    checkInteger(offset, 'offset');
    checkInteger(length, 'length');
    if (offset + length > this.#bytes.length)
      outOfRange('offset + length', `at most ${this.#bytes.length}`, offset + length);
  }

  /** A copy of `length` bytes from `offset` (the whole rest when omitted). */
  read(offset = 0, length = this.#bytes.length - offset): Uint8Array {
    this.#range(offset, length);
    return this.#bytes.slice(offset, offset + length);
  }

  /** Copies `bytes` into the buffer at `offset`. */
  write(offset: number, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array))
      throw new TypeError(`Expected \`bytes\` to be a Uint8Array, got ${describe(bytes)}`);
    this.#range(offset, bytes.length);
    this.#bytes.set(bytes, offset);
  }

  /** The byte at `index`. */
  getByte(index: number): number {
    this.#range(index, 1);
    return this.#bytes[index]!;
  }

  /** Sets the byte at `index` (stored modulo 256, as Uint8Array does). */
  setByte(index: number, value: number): void {
    this.#range(index, 1);
    this.#bytes[index] = value;
  }

  /** {@link read} without blocking a child's thread. */
  async readAsync(offset?: number, length?: number): Promise<Uint8Array> {
    return this.read(offset, length);
  }

  /** {@link write} without blocking a child's thread. */
  async writeAsync(offset: number, bytes: Uint8Array): Promise<void> {
    this.write(offset, bytes);
  }
}

registerCore(kBufferKind, (state) => new BufferCore(state));
