// The one allocator of shared buffers: every SharedArrayBuffer of shared state comes from a Memory.

/** Where shared buffers come from. */
export interface Memory {
  /** A zeroed shared buffer of `bytes` bytes (growable up to `maxByteLength` when given). */
  allocate(bytes: number, options?: { maxByteLength?: number }): SharedArrayBuffer;
}

/**
 * Plain SharedArrayBuffers of this process.
 * @example
 * const sab = kLocalMemory.allocate(64)
 */
export const kLocalMemory: Memory = Object.freeze({
  allocate: (bytes: number, options?: { maxByteLength?: number }) =>
    options?.maxByteLength === undefined
      ? new SharedArrayBuffer(bytes)
      : new SharedArrayBuffer(bytes, { maxByteLength: options.maxByteLength }),
});
