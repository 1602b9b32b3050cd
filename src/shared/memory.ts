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

// Memory whose buffers are longer than what was asked (mapped memory comes in 64 KiB pages)
// says how many bytes each one really holds.
type Sizer = (buffer: SharedArrayBuffer) => number | undefined;
const sizers: Sizer[] = [];

/**
 * Registers how to read the size asked for a buffer of another memory (undefined: not its own).
 * @example
 * registerSizer((b) => placementOf(b)?.bytes)
 */
export function registerSizer(size: Sizer): void {
  sizers.push(size);
}

/**
 * The bytes `buffer` was allocated with: its length, or less for memory that rounds up.
 * @example
 * const size = sizeOfShared(lookup(name))
 */
export function sizeOfShared(buffer: SharedArrayBuffer): number {
  for (const size of sizers) {
    const bytes = size(buffer);
    if (bytes !== undefined) return bytes;
  }
  return buffer.byteLength;
}

// A buffer of another memory that reaches another thread by postMessage arrives as a new object
// its memory does not know yet; its description, sent along, lets the receiver adopt it.
interface Describer {
  describe(buffer: SharedArrayBuffer): unknown;
  adopt(buffer: SharedArrayBuffer, description: unknown): void;
  /** The buffer a description names, mapped here (another process), or undefined. */
  revive(description: unknown): SharedArrayBuffer | undefined;
}
const describers: Describer[] = [];

/**
 * Registers how buffers of another memory are described and adopted across threads.
 * @example
 * registerDescriber({ describe: placementOf, adopt: adoptMapped })
 */
export function registerDescriber(describer: Describer): void {
  describers.push(describer);
}

/**
 * What a thread receiving `buffer` needs to adopt it (see {@link adoptShared}); undefined for a
 * plain SharedArrayBuffer.
 * @example
 * post({ buffer, description: describeShared(buffer) })
 */
export function describeShared(buffer: SharedArrayBuffer): unknown {
  for (const d of describers) {
    const description = d.describe(buffer);
    if (description !== undefined) return description;
  }
  return undefined;
}

/**
 * Adopts a buffer another thread sent with its {@link describeShared} description.
 * @example
 * adoptShared(msg.buffer, msg.description)
 */
export function adoptShared(buffer: SharedArrayBuffer, description: unknown): void {
  if (description === undefined) return;
  for (const d of describers) d.adopt(buffer, description);
}

/**
 * The buffer `description` names, made reachable here (mapped into this process), or undefined
 * when no memory of this process can (a plain SharedArrayBuffer of another process).
 * @example
 * const buffer = reviveShared(describeNamed(name))
 */
export function reviveShared(description: unknown): SharedArrayBuffer | undefined {
  if (description === undefined) return undefined;
  for (const d of describers) {
    const buffer = d.revive(description);
    if (buffer !== undefined) return buffer;
  }
  return undefined;
}
