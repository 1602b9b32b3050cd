// Synchronization primitives shared across threads and processes: Lock, RLock, Semaphore, Condition, Event, Barrier.
export { Lock, RLock, type AcquireOptions } from './synchronize/lock.ts';
export { Semaphore, BoundedSemaphore } from './synchronize/semaphore.ts';
export { Condition } from './synchronize/condition.ts';
export { Event } from './synchronize/event.ts';
export { Barrier, type BarrierOptions } from './synchronize/barrier.ts';
