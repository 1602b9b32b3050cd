// Holdings a worker has of shared objects, reported to its parent so that a killed worker's are released.
//
// A thread stopped by terminate()/kill() or by running out of memory, or a child process killed by
// a signal, runs no exit hook, so it cannot release what it holds (a pipe end keeps its peer from
// seeing EOF). Each of our workers reports what it holds to its parent as it goes (a thread over
// its port, a child process over IPC); the parent's backend keeps a ledger per worker and releases
// what is left when the worker ends abnormally.
import { isMainThread, parentPort } from 'node:worker_threads';
import { state } from './state.ts';
import { kAnotherProcess, kThisProcess, type Destination } from '../reduction/values.ts';

type Releaser = (state: any) => void;
const releasers = new Map<string, Releaser>();
let nextId = 0;

/** Registers how the parent releases a holding of `kind` (call at module load). */
export function registerReleaser(kind: string, release: Releaser): void {
  releasers.set(kind, release);
}

function post(msg: object): void {
  if (isMainThread) process.send?.(msg);
  else parentPort!.postMessage(msg);
}

/**
 * Worker side: reports that this worker now holds something, described by `describe` for the
 * parent (a thread's parent shares its memory, a child process's does not); returns the
 * holding's id, or null where no report is needed (the program itself, threads we did not start).
 */
export function reportHolding(
  kind: string,
  describe: (destination: Destination) => unknown,
): number | null {
  if (state().isMain || (!isMainThread && !parentPort)) return null;
  const id = ++nextId;
  post({ t: 'hold', id, kind, state: describe(isMainThread ? kAnotherProcess : kThisProcess) });
  return id;
}

/** Worker side: the holding was released here (closed or collected). */
export function reportReleased(id: number | null): void {
  if (id !== null) post({ t: 'unhold', id });
}

/** Parent side: what one thread worker holds. */
export class HoldingLedger {
  readonly #open = new Map<number, { kind: string; state: unknown }>();

  /** Records a report; returns false for messages that are not about holdings. */
  record(msg: { t: string; id?: number; kind?: string; state?: unknown }): boolean {
    if (msg.t === 'hold') this.#open.set(msg.id!, { kind: msg.kind!, state: msg.state });
    else if (msg.t === 'unhold') this.#open.delete(msg.id!);
    else return false;
    return true;
  }

  /** Releases everything still held (the thread ended without releasing it). */
  releaseAll(): void {
    for (const { kind, state: s } of this.#open.values()) {
      const release = releasers.get(kind);
      if (!release) throw new Error(`assertion failed: no releaser for holding kind '${kind}'`);
      release(s);
    }
    this.#open.clear();
  }
}
