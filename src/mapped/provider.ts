// The mapped core provider: primitives of the process context over OS shared memory that every process maps.
//
// A core whose buffers are all mapped travels as their placements; the receiving process maps
// them and runs the very same algorithm over the same memory, so a child's Lock, Value, Array,
// Queue and Pipe cost what they cost in a thread. Waits and wakes on mapped buffers go to the
// futex of the native addon (V8's Atomics.wait/notify only see waiters of one process), through
// the wake-up seam of shared/atomics.ts; it is registered in each thread on its first mapped
// buffer, so threads that never see one pay nothing.
import { type Destination, registerReviver, registerViewReducer } from '../reduction/values.ts';
import { registerWaker, type Waker } from '../shared/atomics.ts';
import { type CoreState, type SharedCore, createCore } from '../shared/core.ts';
import { type Memory, registerDescriber, registerGrower, registerSizer } from '../shared/memory.ts';
import { type CoreProvider, type CoreWire, registerProvider } from '../shared/provider.ts';
import { loadShmAddon, shmUnavailableReason } from '../native/shm-addon.ts';
import {
  type Placement,
  adoptMapped,
  allocateMapped,
  growMapped,
  isMapped,
  mapPlacement,
  placementOf,
} from './segments.ts';

/** A mapped core on the wire: its kind, metadata and where each of its buffers lives. */
interface MappedWire extends CoreWire {
  readonly t: 'mapped';
  readonly kind: string;
  readonly meta: unknown;
  readonly placements: readonly Placement[];
  /** To a thread of this process: the buffers themselves (same memory, no new mapping). */
  readonly buffers?: readonly SharedArrayBuffer[];
}

let wakerInstalled = false;

// Futex waits and wakes for mapped buffers, in this thread, from the first one on.
function installWaker(): void {
  if (wakerInstalled) return;
  wakerInstalled = true;
  const shm = loadShmAddon()!;
  const waker: Waker = {
    waitSync: (a, at, expected, ms) => shm.futexWait(a, at, expected, ms),
    waitAsync: (a, at, expected, ms, signal) => shm.futexWaitAsync(a, at, expected, ms, signal),
    notify: (a, at, count) => shm.futexWake(a, at, count),
  };
  registerWaker(isMapped, waker);
  registerGrower((buffer, bytes) => {
    if (!isMapped(buffer)) return false;
    growMapped(buffer, bytes);
    return true;
  });
}

const mappedMemory: Memory = {
  allocate(bytes, options) {
    installWaker();
    return allocateMapped(bytes, options?.maxByteLength);
  },
};

function placementsOf(core: SharedCore): Placement[] | null {
  const buffers = core.state.buffers;
  if (buffers.length === 0) return null;
  const out: Placement[] = [];
  for (const buffer of buffers) {
    const placement = placementOf(buffer);
    if (!placement) return null;
    out.push(placement);
  }
  return out;
}

/**
 * Cores over mapped OS shared memory: one algorithm in every process. Available when the
 * native addon loads (see {@link mappedAvailable}).
 * @example
 * const core = new MutexCore('Lock', MutexCore.fresh(mappedCores.memory))
 */
export const mappedCores: CoreProvider = {
  mode: 'mapped',
  memory: mappedMemory,
  tags: ['mapped'],
  // A core is mapped when every one of its buffers is (a Condition over a thread-context Lock
  // is not: it stays with the local provider and reaches children through the broker).
  claims: (core) => placementsOf(core) !== null,
  isReal: () => true,
  reduceCore(core: SharedCore, destination: Destination): CoreWire {
    const placements = placementsOf(core)!;
    const wire: MappedWire = {
      t: 'mapped',
      kind: core.kind,
      meta: core.state.meta,
      placements,
      ...(destination.sharesMemory ? { buffers: core.state.buffers } : {}),
    };
    return wire;
  },
  reviveCore(wire: CoreWire): SharedCore {
    const { kind, meta, placements, buffers } = wire as MappedWire;
    installWaker();
    const mapped = placements.map((p, i) =>
      buffers ? adoptMapped(buffers[i]!, p) : mapPlacement(p),
    );
    const state: CoreState = meta === undefined ? { buffers: mapped } : { buffers: mapped, meta };
    return createCore(kind, state);
  },
  // Named blocks stay in the root process's registry, as the broker keeps them.
  names: () => brokerNames(),
};

let brokerNamesOf: (() => ReturnType<CoreProvider['names']>) | null = null;

/**
 * Sets where named blocks are registered (the broker's registry; broker/provider.ts sets it).
 * @example
 * useNamesOf(() => brokerCores.names())
 */
export function useNamesOf(names: () => ReturnType<CoreProvider['names']>): void {
  brokerNamesOf = names;
}

function brokerNames(): ReturnType<CoreProvider['names']> {
  if (!brokerNamesOf) throw new Error('assertion failed: no registry of named blocks');
  return brokerNamesOf();
}

/**
 * Whether this process can use mapped memory (the native addon loads and works here).
 * @example
 * const cores = mappedAvailable() ? mappedCores : brokerCores
 */
export function mappedAvailable(): boolean {
  return loadShmAddon() !== null;
}

/**
 * Why mapped memory is not available here, or null when it is.
 * @example
 * if (!mappedAvailable()) console.log(mappedUnavailableReason())
 */
export function mappedUnavailableReason(): string | null {
  return shmUnavailableReason();
}

registerProvider(mappedCores);

/** A plain view over mapped memory, on its way to another process. */
interface ViewWire {
  readonly placement: Placement;
  /** The view's class: a typed array's name, or 'DataView'. */
  readonly type: string;
  readonly byteOffset: number;
  readonly length: number;
}

const kViewKind = 'mapped:View';

// A typed array over mapped memory (a RawArray, a subarray of an Array, SharedMemory.buf) goes
// to another process as the same memory, not as a copy of its elements.
registerViewReducer((view) => {
  const placement = placementOf(view.buffer as SharedArrayBuffer);
  if (!placement) return undefined;
  let proto = Object.getPrototypeOf(view) as { constructor: { name: string } } | null;
  // The built-in class under a subclass (Buffer is a Uint8Array; species keeps them plain).
  while (proto && !(proto.constructor.name in globalThis)) proto = Object.getPrototypeOf(proto);
  const type = proto?.constructor.name ?? 'Uint8Array';
  const length = view instanceof DataView ? view.byteLength : (view as Uint8Array).length;
  const state: ViewWire = { placement, type, byteOffset: view.byteOffset, length };
  return { kind: kViewKind, state };
});

registerReviver(kViewKind, (wire: ViewWire) => {
  installWaker();
  const buffer = mapPlacement(wire.placement);
  const Type = (globalThis as unknown as Record<string, new (...a: unknown[]) => unknown>)[
    wire.type
  ]!;
  return new Type(buffer, wire.byteOffset, wire.length);
});

registerSizer((buffer) => placementOf(buffer)?.bytes);

registerDescriber({
  describe: (buffer) => placementOf(buffer),
  adopt(buffer, description) {
    installWaker();
    adoptMapped(buffer, description as Placement);
  },
  revive(description) {
    if (!mappedAvailable()) return undefined;
    installWaker();
    return mapPlacement(description as Placement);
  },
});
