// Mapped shared memory: SharedArrayBuffers carved from arenas of OS shared memory, where every process can map them.
//
// The native addon maps a region of a memfd over the memory of a shared `WebAssembly.Memory`
// (the only SharedArrayBuffer a Node-API addon can obtain), so a mapping is a whole number of
// 64 KiB wasm pages. Small buffers share arenas: each takes a 64 KiB-aligned slot of an arena's
// file, of which only the bytes asked for are allocated (posix_fallocate, so a full /dev/shm
// fails here with a clear error instead of a SIGBUS later); the rest of the slot stays a hole
// nobody touches. A buffer that may grow (a queue's ring) gets a file of its own, sized for its
// maximum and allocated as it grows.
//
// A buffer's *placement* (owner pid, the owner's descriptor, offset, size) is what travels: a
// child reopens the owner's descriptor through /proc/<pid>/fd/<n> once per file and maps the
// slot. The memory lives as long as any process maps it; the owner closes an arena's
// descriptor once every buffer it carved from it is collected here (memfd: the OS frees the
// memory when the last mapping goes, even after a SIGKILL).
import { kMaxMappedSegment, kWasmPage, loadShmAddon, type ShmAddon } from '../native/shm-addon.ts';

/** Where a mapped buffer lives: enough for any process of the program to map it. */
export interface Placement {
  /** The process whose descriptor names the file. */
  readonly pid: number;
  /** That process's descriptor of the file. */
  readonly fd: number;
  /** Offset of the buffer in the file (a multiple of 64 KiB). */
  readonly offset: number;
  /** Bytes the buffer was asked for. */
  readonly bytes: number;
  /** Bytes it may grow to (its file is its own), or 0 for a fixed-size buffer. */
  readonly max: number;
}

const kArenaBytes = 4 << 20;
// Buffers this large get a file of their own rather than a run of arena slots.
const kOwnFileBytes = 1 << 20;
const kOsPage = 4096;

const roundUp = (n: number, unit: number): number => Math.ceil(n / unit) * unit;

interface Arena {
  readonly fd: number;
  next: number;
  live: number;
  open: boolean;
}

// Every mapped buffer this thread holds, with its placement (a WeakMap: buffers stay collectable).
const placements = new WeakMap<SharedArrayBuffer, Placement>();
// Mappings made from placements, by file and offset, so a buffer revived twice is one mapping.
const mappings = new Map<string, WeakRef<SharedArrayBuffer>>();
// This thread's descriptors of other processes' files, by "pid:fd".
const opened = new Map<string, number>();
let arena: Arena | null = null;

function addon(): ShmAddon {
  const shm = loadShmAddon();
  if (!shm) throw new Error('assertion failed: mapped memory used without the native addon');
  return shm;
}

// The owner closes an arena's descriptor once nothing it carved is alive here; mappings in
// other processes keep the memory.
const collected = new FinalizationRegistry<Arena>((a) => {
  if (--a.live === 0 && a !== arena && a.open) {
    a.open = false;
    addon().closeFd(a.fd);
  }
});

/**
 * Whether `buffer` is mapped shared memory (its waits and wakes must cross processes).
 * @example
 * if (isMapped(i32.buffer as SharedArrayBuffer)) futexWake(i32, 0)
 */
export function isMapped(buffer: SharedArrayBuffer): boolean {
  return placements.has(buffer);
}

/**
 * The placement of a mapped buffer, or undefined for any other buffer.
 * @example
 * const where = placementOf(core.state.buffers[0]!)
 */
export function placementOf(buffer: SharedArrayBuffer): Placement | undefined {
  return placements.get(buffer);
}

function remember(buffer: SharedArrayBuffer, placement: Placement): SharedArrayBuffer {
  placements.set(buffer, placement);
  mappings.set(`${placement.pid}:${placement.fd}:${placement.offset}`, new WeakRef(buffer));
  return buffer;
}

// The mappings made here from placements most recently, held strongly: a pool worker that gets
// the same shared array in task after task keeps one mapping, its pages already faulted in,
// instead of mapping it afresh (and faulting every page again) whenever the last task's view
// was collected.
const kKeepRecent = 16;
const recent: SharedArrayBuffer[] = [];

function keep(buffer: SharedArrayBuffer): SharedArrayBuffer {
  const at = recent.indexOf(buffer);
  if (at >= 0) recent.splice(at, 1);
  recent.push(buffer);
  if (recent.length > kKeepRecent) recent.shift();
  return buffer;
}

/**
 * A new zero-filled mapped buffer of `bytes` bytes (growable up to `maxByteLength` with
 * {@link growMapped}). Throws the addon's coded error when the OS has no room for it.
 * @example
 * const words = new Int32Array(allocateMapped(16))
 */
export function allocateMapped(bytes: number, maxByteLength?: number): SharedArrayBuffer {
  const shm = addon();
  if (maxByteLength !== undefined || bytes > kOwnFileBytes) {
    const max = Math.max(bytes, maxByteLength ?? 0);
    if (max > kMaxMappedSegment) {
      throw Object.assign(
        new RangeError(
          `Expected a shared block of at most ${kMaxMappedSegment} bytes (one mapping), got ${max}`,
        ),
        { code: 'ERR_SHM_TOO_LARGE' },
      );
    }
    const fd = shm.createSegmentFd(max, { reserve: roundUp(bytes, kOsPage) });
    let buffer: SharedArrayBuffer;
    try {
      buffer = shm.mapSegment(fd, 0, max);
    } catch (error) {
      // The file holds its memory until its last descriptor closes: do not keep it.
      shm.closeFd(fd);
      throw error;
    }
    const own: Arena = { fd, next: max, live: 1, open: true };
    collected.register(buffer, own);
    const placement = { pid: process.pid, fd, offset: 0, bytes, max: maxByteLength ?? 0 };
    return remember(buffer, placement);
  }
  const slot = roundUp(bytes, kWasmPage);
  if (!arena || arena.next + slot > kArenaBytes) {
    const previous = arena;
    arena = { fd: shm.createSegmentFd(kArenaBytes, { reserve: 0 }), next: 0, live: 0, open: true };
    if (previous && previous.live === 0 && previous.open) {
      previous.open = false;
      shm.closeFd(previous.fd);
    }
  }
  const offset = arena.next;
  shm.reserveSegment(arena.fd, offset, roundUp(bytes, kOsPage));
  // A failed mapping (no address space left) leaves the slot unused; the arena lives on.
  const buffer = shm.mapSegment(arena.fd, offset, bytes);
  arena.next += slot;
  arena.live += 1;
  collected.register(buffer, arena);
  return remember(buffer, { pid: process.pid, fd: arena.fd, offset, bytes, max: 0 });
}

/** This thread's descriptor for the file of `placement`. */
function descriptorOf(placement: Placement): number {
  if (placement.pid === process.pid) return placement.fd;
  const key = `${placement.pid}:${placement.fd}`;
  let fd = opened.get(key);
  if (fd === undefined) {
    try {
      fd = addon().openRemoteFd(placement.pid, placement.fd);
    } catch (error) {
      throw Object.assign(
        new Error(
          `cannot reach shared memory of process ${placement.pid}: it has exited, or it dropped ` +
            'the object before this process received it',
          { cause: error },
        ),
        { code: 'ERR_SHARED_MEMORY_GONE' },
      );
    }
    opened.set(key, fd);
  }
  return fd;
}

/**
 * The buffer at `placement`, mapped into this process (once: the same buffer while it lives).
 * @example
 * const buffer = mapPlacement(wire.placements[0])
 */
export function mapPlacement(placement: Placement): SharedArrayBuffer {
  const key = `${placement.pid}:${placement.fd}:${placement.offset}`;
  const known = mappings.get(key)?.deref();
  if (known) return keep(known);
  const size = placement.max > 0 ? placement.max : placement.bytes;
  const buffer = addon().mapSegment(descriptorOf(placement), placement.offset, size);
  return keep(remember(buffer, placement));
}

/**
 * Adopts `buffer`, a mapped buffer another thread of this process sent here, with its placement.
 * @example
 * adoptMapped(buffer, placement)
 */
export function adoptMapped(buffer: SharedArrayBuffer, placement: Placement): SharedArrayBuffer {
  if (!placements.has(buffer)) remember(buffer, placement);
  return buffer;
}

/**
 * Makes the first `bytes` bytes of a growable mapped buffer usable (allocating them in its file:
 * a clear error rather than a SIGBUS when the OS has no room). Any process may grow it.
 * @example
 * growMapped(ring, 1 << 20)
 */
export function growMapped(buffer: SharedArrayBuffer, bytes: number): void {
  const placement = placements.get(buffer);
  if (!placement || placement.max === 0)
    throw new Error('assertion failed: growMapped on a buffer that cannot grow');
  if (bytes > placement.max)
    throw new RangeError(`a mapped buffer cannot grow past ${placement.max} bytes, asked ${bytes}`);
  addon().reserveSegment(descriptorOf(placement), 0, roundUp(bytes, kOsPage));
}
