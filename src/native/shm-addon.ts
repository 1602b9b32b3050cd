// Loads the native shared-memory addon (mp_shm) once per thread and gives it a typed, checked face.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Bytes in a WebAssembly page. A mapped segment is carved out of a shared `WebAssembly.Memory`,
 * so its SharedArrayBuffer is a whole number of these (sizes are rounded up).
 */
export const kWasmPage = 65536;

/** The largest segment one mapping can show: 65536 wasm pages (4 GiB), V8's bound for a Memory. */
export const kMaxMappedSegment = 65536 * kWasmPage;

/** Result of a futex wait, as Atomics.wait reports it. */
export type FutexWaitResult = 'ok' | 'not-equal' | 'timed-out';

/** The waiter threads of the calling thread's addon instance, for diagnostics and tests. */
export interface WaiterStats {
  /** Waiter threads this thread's instance owns (idle + serving a wait). */
  threads: number;
  /** Of those, parked for reuse. */
  idle: number;
  /** Async waits not yet settled. */
  pending: number;
  /** Waiter threads alive in the whole process (every thread's instance). */
  processThreads: number;
  /** Whether cancellation uses futex_waitv (Linux 5.16+) rather than waking the shared word. */
  futexWaitv: boolean;
}

/** Options of {@link ShmAddon.createSegmentFd}. */
export interface SegmentOptions {
  /**
   * Bytes to allocate now, from the start (the rest stays sparse until {@link
   * ShmAddon.reserveSegment} or a first touch, which raises SIGBUS if memory has run out).
   * @default the whole (rounded) size
   */
  reserve?: number;
  /**
   * The memfd's name, shown in /proc/<pid>/maps as `memfd:<name>`.
   * @default 'multiprocessing-ts'
   */
  name?: string;
}

/** The addon's functions, as the loader hands them out after checking the addon works here. */
export interface ShmAddon {
  /**
   * Creates a shared-memory file (a memfd) of `size` bytes rounded up to {@link kWasmPage}, and
   * allocates `reserve` of them now: not enough memory is an Error with code
   * `ERR_SHM_NO_SPACE` or `ERR_SHM_TOO_LARGE` here, never a SIGBUS later. Returns its descriptor
   * (close-on-exec), which the caller closes once it has mapped it.
   * @example
   * const fd = shm.createSegmentFd(1 << 20)
   */
  createSegmentFd(size: number, options?: SegmentOptions): number;
  /**
   * Allocates bytes [offset, offset + length) of a segment created with a smaller `reserve`.
   * @example
   * shm.reserveSegment(fd, 0, 1 << 20)
   */
  reserveSegment(fd: number, offset: number, length: number): void;
  /**
   * Maps `size` bytes (rounded up to {@link kWasmPage}) of the file `fd` from `offset` (a
   * multiple of the OS page) as a SharedArrayBuffer that every process mapping the file shares.
   * The mapping lives as long as the buffer; the descriptor may be closed right away.
   * @example
   * const i32 = new Int32Array(shm.mapSegment(fd, 0, 1 << 20))
   */
  mapSegment(fd: number, offset: number, size: number): SharedArrayBuffer;
  /**
   * Opens descriptor `fd` of process `pid` (same user) through /proc: how a child reaches a
   * segment its parent created after the child started. Returns a new descriptor.
   * @example
   * const mine = shm.openRemoteFd(process.ppid, parentFd)
   */
  openRemoteFd(pid: number, fd: number): number;
  /**
   * Has the kernel SIGKILL this process when the thread that started it ends (PR_SET_PDEATHSIG),
   * so a child blocked in a futex wait dies with its program; false when that parent is already
   * gone. Call it early in a child process.
   * @example
   * if (!shm.dieWithParent(process.ppid)) process.exit(1)
   */
  dieWithParent(parentPid: number): boolean;
  /**
   * Closes a descriptor from {@link ShmAddon.createSegmentFd} or {@link ShmAddon.openRemoteFd}.
   * @example
   * shm.closeFd(fd)
   */
  closeFd(fd: number): void;
  /**
   * The size in bytes of the file behind `fd`.
   * @example
   * const bytes = shm.segmentSize(fd)
   */
  segmentSize(fd: number): number;
  /**
   * Sleeps until `a[at]` is woken by {@link ShmAddon.futexWake} in any process while it holds
   * `expected`, at most `ms` (forever by default). Blocks the calling thread. 'ok' may be a
   * spurious wake-up: callers re-check their condition, as with any futex.
   * @example
   * shm.futexWait(i32, 0, 2, 100)
   */
  futexWait(a: Int32Array, at: number, expected: number, ms?: number): FutexWaitResult;
  /**
   * Wakes up to `count` (all by default) sleepers on `a[at]`, in every process; returns how many.
   * Does not wake Atomics.wait, and Atomics.notify does not wake these waits.
   * @example
   * Atomics.store(i32, 0, 1); shm.futexWake(i32, 0)
   */
  futexWake(a: Int32Array, at: number, count?: number): number;
  /**
   * {@link ShmAddon.futexWait} without blocking: waits on a thread of the addon's own (never
   * libuv's pool) and keeps the event loop alive while pending. An abort of `signal` stops the
   * wait and resolves 'timed-out' (unless a wake-up got there first).
   * @example
   * await shm.futexWaitAsync(i32, 0, 2, 100, AbortSignal.timeout(50))
   */
  futexWaitAsync(
    a: Int32Array,
    at: number,
    expected: number,
    ms?: number,
    signal?: AbortSignal,
  ): Promise<FutexWaitResult>;
  /**
   * Counts of this thread's waiter threads.
   * @example
   * shm.waiterStats().pending
   */
  waiterStats(): WaiterStats;
}

/** The functions native/shm.c and native/futex.c export. */
interface NativeShm {
  readonly pageSize: number;
  memfdCreate(name: string, size: number, reserve?: number): number;
  reserve(fd: number, offset: number, length: number): void;
  overlay(view: Uint8Array, fd: number, fileOffset: number): void;
  openFd(pid: number, fd: number): number;
  dieWithParent(parentPid: number): boolean;
  closeFd(fd: number): void;
  fdSize(fd: number): number;
  futexWait(a: Int32Array, at: number, expected: number, ms?: number): number;
  futexWake(a: Int32Array, at: number, count?: number): number;
  futexWaitAsync(
    a: Int32Array,
    at: number,
    expected: number,
    ms?: number,
  ): { id: number; promise: Promise<number> };
  cancelWait(id: number): boolean;
  waiterStats(): WaiterStats;
}

/** The part of `WebAssembly.Memory` used here (the project's lib has no WebAssembly types). */
type WasmMemory = new (descriptor: { initial: number; maximum: number; shared: boolean }) => {
  readonly buffer: SharedArrayBuffer;
};
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemory } }).WebAssembly
  .Memory;

/** The environment variable that can force the broker: `MULTIPROCESSING_TS_SHARED_MEMORY=broker`. */
const kModeVariable = 'MULTIPROCESSING_TS_SHARED_MEMORY';
// Native wait results 0..3; 3 (cancelled by an abort) reads as a timeout, as the Atomics path does.
const kResults: readonly FutexWaitResult[] = ['ok', 'not-equal', 'timed-out', 'timed-out'];

let addon: ShmAddon | null | undefined;
let unavailable: string | null = null;

/** An Error with a Node-style `code`. */
function codedError(Kind: typeof Error, code: string, message: string, cause?: unknown): Error {
  const error = new Kind(message, cause === undefined ? undefined : { cause });
  (error as Error & { code: string }).code = code;
  return error;
}

function checkSize(fn: string, size: unknown): number {
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
    throw codedError(
      RangeError,
      'ERR_OUT_OF_RANGE',
      `${fn}: "size" must be a positive integer (got ${String(size)})`,
    );
  }
  return size;
}

/** Types the raw addon, adding the wasm-page carving and the result names. */
function wrap(native: NativeShm): ShmAddon {
  const pages = (bytes: number): number => Math.ceil(bytes / kWasmPage);
  return {
    createSegmentFd(size, options = {}) {
      const bytes = pages(checkSize('createSegmentFd', size)) * kWasmPage;
      const reserve = options.reserve ?? bytes;
      return native.memfdCreate(options.name ?? 'multiprocessing-ts', bytes, reserve);
    },
    reserveSegment: (fd, offset, length) => native.reserve(fd, offset, length),
    mapSegment(fd, offset, size) {
      const count = pages(checkSize('mapSegment', size));
      if (count > kMaxMappedSegment / kWasmPage) {
        throw codedError(
          RangeError,
          'ERR_SHM_TOO_LARGE',
          `mapSegment: "size" ${size} is more than one mapping can show (${kMaxMappedSegment} bytes)`,
        );
      }
      let memory: InstanceType<WasmMemory>;
      try {
        // maximum = initial: the Memory never grows, so its buffer never moves or detaches.
        memory = new WasmMemory({ initial: count, maximum: count, shared: true });
      } catch (error) {
        throw codedError(
          Error,
          'ERR_SHM_NO_ADDRESS_SPACE',
          `mapSegment: V8 could not reserve ${count * kWasmPage} bytes for a shared Memory`,
          error,
        );
      }
      native.overlay(new Uint8Array(memory.buffer), fd, offset);
      return memory.buffer;
    },
    openRemoteFd: (pid, fd) => native.openFd(pid, fd),
    dieWithParent: (parentPid) => native.dieWithParent(parentPid),
    closeFd: (fd) => native.closeFd(fd),
    segmentSize: (fd) => native.fdSize(fd),
    futexWait: (a, at, expected, ms) => kResults[native.futexWait(a, at, expected, ms)]!,
    futexWake: (a, at, count) => native.futexWake(a, at, count),
    futexWaitAsync(a, at, expected, ms, signal) {
      if (signal?.aborted) return Promise.resolve('timed-out');
      const { id, promise } = native.futexWaitAsync(a, at, expected, ms);
      const result = promise.then((code) => kResults[code]!);
      if (!signal || id === 0) return result; // id 0: settled at once, no thread involved
      const cancel = (): void => void native.cancelWait(id);
      signal.addEventListener('abort', cancel, { once: true });
      return result.finally(() => signal.removeEventListener('abort', cancel));
    },
    waiterStats: () => native.waiterStats(),
  };
}

/**
 * Checks that a write through one mapping shows through a second mapping of the same file: it
 * does not where V8 keeps wasm memory somewhere we cannot overlay (its sandbox, for one).
 */
function selfTest(shm: ShmAddon): string | null {
  const fd = shm.createSegmentFd(kWasmPage);
  try {
    const first = new Int32Array(shm.mapSegment(fd, 0, kWasmPage));
    const second = new Int32Array(shm.mapSegment(fd, 0, kWasmPage));
    const mark = 0x5eed0000 | (process.pid & 0xffff);
    Atomics.store(first, 1000, mark);
    if (Atomics.load(second, 1000) !== mark) {
      return 'a write through one mapping of a segment does not show through another (V8 sandbox?)';
    }
    return null;
  } finally {
    shm.closeFd(fd);
  }
}

function load(): ShmAddon | null {
  const mode = process.env[kModeVariable]?.trim().toLowerCase();
  if (mode === 'broker') {
    unavailable = `${kModeVariable}=broker forces the broker`;
    return null;
  }
  if (process.platform !== 'linux') {
    unavailable = `the native addon is Linux-only (this is ${process.platform})`;
    return null;
  }
  // The package root is two levels up from src/native/ (tsx) and from dist/native/ (tsc) alike:
  // node-gyp-build looks there for build/Release/*.node, then prebuilds/<platform>-<arch>/.
  const root = fileURLToPath(new URL('../..', import.meta.url));
  let native: NativeShm;
  try {
    const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build') as (
      dir: string,
    ) => unknown;
    native = nodeGypBuild(root) as NativeShm;
  } catch (error) {
    const first = String((error as Error)?.message ?? error).split('\n')[0];
    unavailable = `the native addon could not be loaded (no matching prebuild and no local build): ${first}`;
    return null;
  }
  const shm = wrap(native);
  try {
    unavailable = selfTest(shm);
  } catch (error) {
    unavailable = `the native addon loaded but cannot map shared memory: ${(error as Error).message}`;
  }
  return unavailable === null ? shm : null;
}

/**
 * Loads the native addon once for the calling thread and returns it, or null when this process
 * cannot use it (see {@link shmUnavailableReason}): another OS, no prebuild and no local build,
 * `MULTIPROCESSING_TS_SHARED_MEMORY=broker`, or a V8 whose wasm memory cannot be overlaid.
 * @example
 * const shm = loadShmAddon()
 * if (shm) { const fd = shm.createSegmentFd(1 << 20); ... }
 */
export function loadShmAddon(): ShmAddon | null {
  if (addon === undefined) addon = load();
  return addon;
}

/**
 * Why {@link loadShmAddon} returns null (loading it first if needed), or null when it loads.
 * @example
 * if (!loadShmAddon()) console.warn(shmUnavailableReason())
 */
export function shmUnavailableReason(): string | null {
  loadShmAddon();
  return unavailable;
}
