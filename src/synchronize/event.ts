// Event: a flag word that waiters sleep on (set() never blocks), and the public class.
import { activeProvider } from '../shared/binding.ts';
import { inspect } from 'node:util';
import { registerCore, type CoreState, type SharedCore } from '../shared/core.ts';
import { callSignal } from '../shared/call-context.ts';
import {
  type WaitLoop,
  deadlineOf,
  kSelf,
  notify,
  remaining,
  runAsync,
  runSync,
  sharedWords,
} from '../shared/atomics.ts';
import { type Memory, kLocalMemory } from '../shared/memory.ts';
import { kReduce, type Destination } from '../reduction/values.ts';
import { checkTimeout } from '../validate.ts';
import { markLocal, reduceCore, registerPrimitive, type CoreHandle } from '../shared/travel.ts';

const kFlag = 0;

/** What an event core offers (a remote core in a child process has the same methods). */
export interface EventCoreApi extends SharedCore {
  isSet(): boolean;
  set(owner: number): void;
  clear(owner: number): void;
  waitSync(owner: number, timeout: number | undefined): boolean;
  waitAsync(owner: number, timeout: number | undefined): Promise<boolean>;
}

/**
 * The event algorithm: one word, 0 or 1; waiters sleep on it while it is 0, set() stores 1 and
 * wakes them all. Python builds Event from a Condition; a flag word needs no lock, so set() and
 * clear() can never wait for one (not even on an async waiter of the same thread).
 * @example
 * const core = new EventCore(EventCore.fresh(activeProvider().memory))
 */
export class EventCore implements EventCoreApi {
  readonly kind = 'Event';
  readonly state: CoreState;
  readonly #a: Int32Array;

  constructor(state: CoreState) {
    this.state = state;
    this.#a = new Int32Array(state.buffers[0]!);
  }

  /** A new, unset state, in `memory`. */
  static fresh(memory: Memory = kLocalMemory): CoreState {
    return { buffers: [sharedWords(1, memory).buffer as SharedArrayBuffer] };
  }

  isSet(): boolean {
    return Atomics.load(this.#a, kFlag) === 1;
  }

  set(_owner: number): void {
    if (Atomics.exchange(this.#a, kFlag, 1) === 0) notify(this.#a, kFlag);
  }

  clear(_owner: number): void {
    Atomics.store(this.#a, kFlag, 0);
  }

  // Both check the flag before building their loop: waiting on a set event costs no allocation.
  waitSync(_owner: number, timeout: number | undefined): boolean {
    if (Atomics.load(this.#a, kFlag) === 1) return true;
    return runSync(this.#waiting(deadlineOf(timeout), undefined));
  }

  async waitAsync(_owner: number, timeout: number | undefined): Promise<boolean> {
    if (Atomics.load(this.#a, kFlag) === 1) return true;
    const signal = callSignal(); // a child waiting through the broker went away: stop waiting
    return runAsync(this.#waiting(deadlineOf(timeout), signal), signal);
  }

  /** Sleeps on the flag word until it is 1 (true) or `end` passes (false). */
  *#waiting(end: number, signal: AbortSignal | undefined): WaitLoop<boolean> {
    for (;;) {
      if (Atomics.load(this.#a, kFlag) === 1) return true;
      const left = remaining(end);
      if (left <= 0 || signal?.aborted) return false;
      yield { a: this.#a, at: kFlag, expected: 0, ms: left };
    }
  }
}

registerCore('Event', (state) => new EventCore(state));

let adopting: EventCoreApi | null = null;

/**
 * A flag shared by every thread and process it is passed to, as Python's
 * `multiprocessing.Event`: `wait()` resolves once it is set.
 * @example
 * const ready = new mp.Event()
 * new mp.Process({ target: worker, args: [ready] }).start()
 * await ready.wait()
 */
export class Event {
  readonly #core: EventCoreApi;

  constructor() {
    this.#core = adopting ?? markLocal(new EventCore(EventCore.fresh(activeProvider().memory)));
    adopting = null;
  }

  /** Whether the flag is set. */
  isSet(): boolean {
    return this.#core.isSet();
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    this.#core.set(kSelf);
  }

  /** Clears the flag. */
  clear(): void {
    this.#core.clear(kSelf);
  }

  /** Resolves true once the flag is set, or false after `timeout` ms. */
  async wait(timeout?: number): Promise<boolean> {
    checkTimeout(timeout);
    return this.#core.waitAsync(kSelf, timeout ?? undefined);
  }

  /** Like {@link wait}, blocking the calling thread. */
  waitSync(timeout?: number): boolean {
    checkTimeout(timeout);
    return this.#core.waitSync(kSelf, timeout ?? undefined);
  }

  [kReduce](destination: Destination): { kind: string; state: { core: CoreHandle } } {
    return { kind: 'sync:Event', state: { core: reduceCore(this.#core, destination) } };
  }

  /** Python's repr: `<Event set>` / `<Event unset>`. */
  toString(): string {
    return `<Event ${this.isSet() ? 'set' : 'unset'}>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

registerPrimitive('sync:Event', (core: SharedCore) => {
  adopting = core as EventCoreApi;
  try {
    return new Event();
  } finally {
    adopting = null;
  }
});
