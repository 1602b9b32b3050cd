// The public surface of multiprocessing-ts: the default context's names, the classes and the errors.
export {
  Context,
  getContext,
  setStartMethod,
  getStartMethod,
  getAllStartMethods,
} from './context.ts';
export type { StartMethod } from './context.ts';
export { Process } from './process.ts';
export type { ProcessOptions } from './process.ts';
export { Pool } from './pool/pool.ts';
export { AsyncResult } from './pool/async-result.ts';
export type {
  PoolOptions,
  TaskOptions,
  ApplyAsyncOptions,
  MapOptions,
  MapAsyncOptions,
  ImapOptions,
} from './pool/options.ts';
export { cpuCount, currentProcess, parentProcess, activeChildren, isMainProcess } from './info.ts';
export type { ProcessInfo, ParentProcessInfo } from './info.ts';
export { getLogger, logToStderr, Logger } from './logging.ts';
export type { LogLevel } from './logging.ts';
export { ref } from './reduction/functions.ts';
export type { FunctionRef, Target } from './reduction/functions.ts';
export { transfer } from './reduction/values.ts';
export { Queue, JoinableQueue, SimpleQueue } from './queues.ts';
export type { QueueWaitOptions } from './queues.ts';
export { Pipe, Connection } from './connection.ts';
export { wait } from './wait.ts';
export type { Waitable } from './wait.ts';
export { Manager, SyncManager } from './managers/sync-manager.ts';
export type { ManagerBarrierOptions } from './managers/sync-manager.ts';
export { BaseManager } from './managers/base-manager.ts';
export type { ManagerOptions, RegisterOptions } from './managers/base-manager.ts';
export { BaseProxy } from './managers/proxy.ts';
export type { AutoProxy } from './managers/proxy.ts';
export {
  DictProxy,
  ListProxy,
  NamespaceProxy,
  ValueProxy,
  ArrayProxy,
  QueueProxy,
  JoinableQueueProxy,
  LockProxy,
  RLockProxy,
  SemaphoreProxy,
  BoundedSemaphoreProxy,
  ConditionProxy,
  EventProxy,
  BarrierProxy,
} from './managers/proxies.ts';
export type { ProxyAcquireOptions } from './managers/proxies.ts';
export {
  Lock,
  RLock,
  Semaphore,
  BoundedSemaphore,
  Condition,
  Event,
  Barrier,
} from './synchronize.ts';
export type { AcquireOptions, BarrierOptions } from './synchronize.ts';
export { Value, RawValue, SynchronizedValue, RawSharedValue } from './shared-types.ts';
export type { ValueOptions, LockOption } from './shared-types.ts';
export type { Typecode, ElementOf, TypedArrayOf } from './shared/typecodes.ts';
export { Array, RawArray } from './shared-array.ts';
export type { SynchronizedArray, SharedArray, ArrayOptions } from './shared-array.ts';
export { SharedMemory } from './shared-memory.ts';
export type { SharedMemoryOptions } from './shared-memory.ts';
export { ShareableList } from './shareable-list.ts';
export type { ShareableItem, ShareableListOptions } from './shareable-list.ts';
export * from './errors.ts';
