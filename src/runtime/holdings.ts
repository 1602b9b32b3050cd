// Holdings a worker has of shared objects, reported to its parent so that a killed worker's are released.
//
// A thread stopped by terminate()/kill() or by running out of memory, or a child process killed by
// a signal, runs no exit hook, so it cannot release what it holds (a pipe end keeps its peer from
// seeing EOF). Each of our workers reports what it holds to its parent as it goes (a thread over
// its port, a child process over IPC); the parent's backend keeps a ledger per worker and releases
// what is left when the worker ends abnormally.
import { parentChannel } from '../backends/parent-channel.ts';
import type { Destination } from '../reduction/values.ts';
import type { HoldMessage, UnholdMessage } from './protocol.ts';
import { state } from './state.ts';

type Releaser = (state: any) => void;
const releasers = new Map<string, Releaser>();
let nextId = 0;

/** Registers how the parent releases a holding of `kind` (call at module load). */
export function registerReleaser(kind: string, release: Releaser): void {
  releasers.set(kind, release);
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
  if (state().isMain) return null;
  const channel = parentChannel();
  const id = ++nextId;
  const hold: HoldMessage = { t: 'hold', id, kind, state: describe(channel.destination) };
  channel.post(hold);
  return id;
}

/** Worker side: the holding was released here (closed or collected). */
export function reportReleased(id: number | null): void {
  if (id === null) return;
  const unhold: UnholdMessage = { t: 'unhold', id };
  parentChannel().post(unhold);
}

/** Parent side: what one thread worker holds. */
export class HoldingLedger {
  readonly #open = new Map<number, { kind: string; state: unknown }>();

  /** Records a report; returns false for messages that are not about holdings. */
  record(msg: { readonly t: string }): boolean {
    if (msg.t === 'hold') {
      const hold = msg as HoldMessage;
      this.#open.set(hold.id, { kind: hold.kind, state: hold.state });
    } else if (msg.t === 'unhold') this.#open.delete((msg as UnholdMessage).id);
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
