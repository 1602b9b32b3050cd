// Per-thread identity of the running program: who we are, who our parent is, and our children.
import { threadId } from 'node:worker_threads';

/** What a worker inherits from the process that started it. */
export interface InheritedState {
  readonly name: string;
  readonly identity: readonly number[];
  readonly daemon: boolean;
  readonly parent: { readonly name: string; readonly pid: number; readonly ident: number };
  readonly logLevel: number;
  readonly logToStderr: boolean;
  readonly startMethod: string | null;
  readonly role: 'process' | 'pool';
}

/** An object with a lifecycle the runtime must settle when this worker or program exits. */
export interface ChildLike {
  readonly daemon: boolean;
  isAlive(): boolean;
  join(timeout?: number): Promise<void>;
  terminate(): void;
}

interface RuntimeState {
  isMain: boolean;
  name: string;
  identity: number[];
  daemon: boolean;
  parent: InheritedState['parent'] | null;
  role: 'main' | 'process' | 'pool';
  childCounter: number;
  /** > 0 while a worker imports the module of its target (Python's bootstrapping phase). */
  bootstrapping: number;
  readonly children: Set<ChildLike>;
}

// Kept on globalThis so that two copies of the library in one thread (dist and src, or two
// installs) agree on who they are; a worker would otherwise think it is the main process.
const kState = Symbol.for('multiprocessing-ts.runtime-state');

function createState(): RuntimeState {
  return {
    isMain: true,
    name: 'MainProcess',
    identity: [],
    daemon: false,
    parent: null,
    role: 'main',
    childCounter: 0,
    bootstrapping: 0,
    children: new Set(),
  };
}

/** The runtime state of this thread, created on first use. */
export function state(): RuntimeState {
  const g = globalThis as { [kState]?: RuntimeState };
  return (g[kState] ??= createState());
}

/** Called by the worker runtime before any user code runs. */
export function adoptInherited(inherited: InheritedState): void {
  const s = state();
  s.isMain = false;
  s.name = inherited.name;
  s.identity = [...inherited.identity];
  s.daemon = inherited.daemon;
  s.parent = inherited.parent;
  s.role = inherited.role;
}

/** The next child identity, `[...ours, n]`; advanced when a Process is constructed, as in Python. */
export function nextIdentity(): number[] {
  const s = state();
  s.childCounter += 1;
  return [...s.identity, s.childCounter];
}

/** This worker's ident: the thread id in a thread, the pid in a child process's main thread. */
export function currentIdent(): number {
  return threadId === 0 ? process.pid : threadId;
}
