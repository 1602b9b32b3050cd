// A child process that ends with its parent: no orphan blocked in a futex wait after its program died.
//
// A child on mapped memory may sleep in a futex wait, where no JavaScript runs to notice that
// its parent's IPC channel closed; the kernel's parent-death signal ends it anyway, and with it
// its mappings, so the program's shared memory goes too. Where the native addon is not there
// (the broker), a child's next call fails with ERR_BROKER_GONE instead.
import { isMainThread } from 'node:worker_threads';
import { loadShmAddon } from '../native/shm-addon.ts';

/** The variable a parent sets to its pid for the child processes it starts. */
export const kDieWithVariable = 'MULTIPROCESSING_TS_PARENT';

/**
 * In a child process the library started: has the kernel end it when its parent does, and
 * exits at once if the parent is already gone. Elsewhere, nothing.
 * @example
 * dieWithParent() // first thing in a worker's runtime
 */
export function dieWithParent(): void {
  if (!isMainThread) return;
  const parent = Number(process.env[kDieWithVariable]);
  // Only the process that started us: a program started by ours inherits the variable too.
  if (!Number.isInteger(parent) || parent !== process.ppid) return;
  const shm = loadShmAddon();
  if (shm && !shm.dieWithParent(parent)) process.exit(1);
}
