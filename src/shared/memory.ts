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

// Memory that cannot grow in place as a growable SharedArrayBuffer does (mapped memory is mapped
// at its maximum size up front, and grows by allocating more of its file) says so here.
type Grower = (buffer: SharedArrayBuffer, bytes: number) => boolean;
const growers: Grower[] = [];

/**
 * Registers how buffers of another memory grow: `grow` returns false for buffers not its own.
 * @example
 * registerGrower((b, n) => isMapped(b) && (growMapped(b, n), true))
 */
export function registerGrower(grow: Grower): void {
  growers.push(grow);
}

/**
 * Makes the first `bytes` bytes of a growable shared buffer usable, as `buffer.grow(bytes)`
 * does for a growable SharedArrayBuffer, whatever memory it came from.
 * @example
 * growShared(ring, 1 << 20)
 */
export function growShared(buffer: SharedArrayBuffer, bytes: number): void {
  if (buffer.growable) {
    buffer.grow(bytes);
    return;
  }
  for (const grow of growers) if (grow(buffer, bytes)) return;
  throw new Error('assertion failed: growShared on a buffer that cannot grow');
}
