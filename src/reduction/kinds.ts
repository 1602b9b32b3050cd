// Which module registers each travelling kind, so a receiver loads what a value needs without the public surface.
//
// A library object travels as a handle of some kind, rebuilt by the reviver its module registers
// when it loads; a shared primitive's core is rebuilt (in the broker) by the factory its module
// registers. A worker or the broker imports those modules on first need, from these tables, and
// nothing else: importing the public surface (src/index.ts) would load the whole library.

type Loader = () => Promise<unknown>;

/**
 * The module that registers the reviver of each handle kind (as in `registerReviver(kind, …)`).
 * A new travelling class adds its kind here.
 * @example
 * await kHandleModules['sync:Lock']()
 */
export const kHandleModules: Readonly<Record<string, Loader>> = {
  'sync:Lock': () => import('../synchronize/lock.ts'),
  'sync:RLock': () => import('../synchronize/lock.ts'),
  'sync:Semaphore': () => import('../synchronize/semaphore.ts'),
  'sync:Condition': () => import('../synchronize/condition.ts'),
  'sync:Event': () => import('../synchronize/event.ts'),
  'sync:Barrier': () => import('../synchronize/barrier.ts'),
  'shared:RawValue': () => import('../shared-types.ts'),
  'shared:Value': () => import('../shared-types.ts'),
  'shared:Array': () => import('../shared-array.ts'),
  'shared:ArrayCopy': () => import('../shared/remote-array.ts'),
  'mapped:View': () => import('../mapped/provider.ts'),
  'shared:SharedMemory': () => import('../shared-memory.ts'),
  'shared:ShareableList': () => import('../shareable-list.ts'),
  'mp.Queue': () => import('../queues.ts'),
  'mp.Connection': () => import('../connection.ts'),
  // The proxy classes register themselves with the module that defines them.
  ManagerProxy: () => import('../managers/proxies.ts'),
};

/**
 * The module that registers the core factory of each core kind (as in `registerCore(kind, …)`).
 * @example
 * await kCoreModules['Lock']()
 */
export const kCoreModules: Readonly<Record<string, Loader>> = {
  Lock: () => import('../synchronize/mutex-core.ts'),
  RLock: () => import('../synchronize/mutex-core.ts'),
  Semaphore: () => import('../synchronize/semaphore.ts'),
  Condition: () => import('../synchronize/condition.ts'),
  Event: () => import('../synchronize/event.ts'),
  Barrier: () => import('../synchronize/barrier-core.ts'),
  Buffer: () => import('../shared/element-cores.ts'),
  Value: () => import('../shared/element-cores.ts'),
  'mp.Channel': () => import('../queues/channel.ts'),
  'mp:buffer': () => import('../shared/buffer-core.ts'),
};

let allKinds: Promise<void> | null = null;
let allCores: Promise<void> | null = null;

function loadAll(table: Readonly<Record<string, Loader>>): Promise<void> {
  return Promise.all(Object.values(table).map((load) => load())).then(() => undefined);
}

/**
 * Loads the module of every handle kind, once: a value that holds handles can then be decoded.
 * @example
 * if (msg.walked) await loadAllKinds()
 * const args = decode(msg.args, msg.walked)
 */
export function loadAllKinds(): Promise<void> {
  return (allKinds ??= loadAll(kHandleModules));
}

/**
 * Loads the module of every core kind, once: every built-in core can then be created.
 * @example
 * if (!hasCore(kind)) await loadAllCores()
 */
export function loadAllCores(): Promise<void> {
  return (allCores ??= loadAll(kCoreModules));
}
