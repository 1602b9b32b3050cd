// Where shared state gets its SharedArrayBuffers: the one allocation seam, which a core provider may swap for its own memory.

/**
 * Options of {@link Memory.allocate}.
 * @example
 * allocateShared(4096, { maxByteLength: 1 << 30 }) // a buffer that can grow to 1 GiB
 */
export interface AllocateOptions {
  /**
   * Makes the buffer growable in place up to this many bytes (`buffer.grow()`).
   * @default undefined (a fixed-size buffer)
   */
  readonly maxByteLength?: number;
}

/**
 * A source of zero-filled SharedArrayBuffers for shared state. The default, {@link kLocalMemory},
 * gives plain buffers of this process; another source (say, arenas of OS shared memory mapped
 * into several processes) returns buffers whose waits and wakes it also routes, through
 * `registerWaker` in atomics.ts.
 * @example
 * const memory: Memory = { allocate: (bytes) => arena.carve(bytes) }
 * MutexCore.fresh(memory)
 */
export interface Memory {
  /** A new zero-filled buffer of `bytes` bytes; throws a RangeError if it cannot be had. */
  allocate(bytes: number, options?: AllocateOptions): SharedArrayBuffer;
}

/**
 * Plain SharedArrayBuffers of this process: the default memory of every core, and the only
 * memory of infrastructure words (broker control, sync-bridge flags, doorbells).
 * @example
 * const sab = kLocalMemory.allocate(64)
 */
export const kLocalMemory: Memory = {
  allocate(bytes: number, options?: AllocateOptions): SharedArrayBuffer {
    // Without maxByteLength the buffer is fixed-size, exactly as `new SharedArrayBuffer(bytes)`.
    return new SharedArrayBuffer(bytes, options);
  },
};

/**
 * A new zero-filled shared buffer of `bytes` bytes from `memory`.
 * @example
 * const words = new Int32Array(allocateShared(16))
 * const ring = allocateShared(4096, { maxByteLength: 1 << 30 })
 */
export function allocateShared(
  bytes: number,
  options?: AllocateOptions,
  memory: Memory = kLocalMemory,
): SharedArrayBuffer {
  return memory.allocate(bytes, options);
}
