// Module functions about processes: cpuCount, currentProcess, parentProcess, activeChildren, isMainProcess.
import { availableParallelism } from 'node:os';
import type { Process } from './process.ts';
import { currentIdent, state } from './runtime/state.ts';
import { invalidArg } from './validate.ts';

/** What `currentProcess()` describes: the process (or worker) running this code. */
export interface ProcessInfo {
  /** The name: `'MainProcess'`, `'Process-1'`, `'PoolWorker-2'`…; assignable, as in Python. */
  name: string;
  /** The OS process id (a thread worker shares its process's pid). */
  readonly pid: number;
  /** The worker's id: its threadId in a thread, else the pid. */
  readonly ident: number;
  /** Whether this process is daemonic. */
  readonly daemon: boolean;
  /** Always true: the current process is running. */
  isAlive(): boolean;
  /** Always null: the current process has not exited. */
  readonly exitCode: null;
}

/** What `parentProcess()` describes. */
export interface ParentProcessInfo {
  readonly name: string;
  readonly pid: number;
  readonly ident: number;
  /** Whether the parent still runs (always true for a thread's parent, which shares our process). */
  isAlive(): boolean;
}

/**
 * The number of CPUs this process may use (`os.availableParallelism()`).
 * @example
 * const pool = new mp.Pool(mp.cpuCount())
 */
export function cpuCount(): number {
  return availableParallelism();
}

const current: ProcessInfo = {
  get name() {
    return state().name;
  },
  set name(value: string) {
    if (typeof value !== 'string') invalidArg('name', 'a string', value);
    state().name = value;
  },
  get pid() {
    return process.pid;
  },
  get ident() {
    return currentIdent();
  },
  get daemon() {
    return state().daemon;
  },
  isAlive: () => true,
  exitCode: null,
};

/**
 * Describes the process running this code: `'MainProcess'` in the program, its own name in a worker.
 * @example
 * console.log(mp.currentProcess().name) // 'Process-1' inside the first process started
 */
export function currentProcess(): ProcessInfo {
  return current;
}

/**
 * Describes the process that started this worker, or null in the main process.
 * @example
 * console.log(mp.parentProcess()?.name) // 'MainProcess' inside a worker
 */
export function parentProcess(): ParentProcessInfo | null {
  const parent = state().parent;
  if (!parent) return null;
  const sameProcess = parent.pid === process.pid;
  return {
    ...parent,
    isAlive: () => {
      if (sameProcess) return true;
      try {
        process.kill(parent.pid, 0);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * The child Processes started here that are still running (finished ones are forgotten).
 * @example
 * for (const p of mp.activeChildren()) p.terminate()
 */
export function activeChildren(): Process[] {
  const children = state().children;
  for (const child of children) if (!child.isAlive()) children.delete(child);
  return [...children] as Process[];
}

/**
 * False in every worker this library starts, true in the program itself: guard the program's
 * main code with it, because a worker imports the module of its target (as Python's spawn does).
 * @example
 * if (mp.isMainProcess()) await main()
 */
export function isMainProcess(): boolean {
  return state().isMain;
}
