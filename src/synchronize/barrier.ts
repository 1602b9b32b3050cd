// Barrier: the public class, shared by every thread and process it is passed to.
import { activeProvider } from '../shared/binding.ts';
import { inspect } from 'node:util';
import { BrokenBarrierError } from '../errors.ts';
import { kSelf } from '../shared/atomics.ts';
import { type FnRef, type Target, isFunctionRef, reduceFunction } from '../reduction/functions.ts';
import { serializeError } from '../reduction/errors.ts';
import { reviveFunction } from '../reduction/revive.ts';
import { kReduce, type Destination } from '../reduction/values.ts';
import { checkInteger, checkKnown, checkTimeout, invalidArg } from '../validate.ts';
import { BarrierCore, type BarrierCoreApi } from './barrier-core.ts';
import { markLocal, reduceCore, registerPrimitive, type CoreHandle } from '../shared/travel.ts';

/** Options of {@link Barrier}. */
export interface BarrierOptions {
  /** Run once per round by the last party to arrive, before anyone is released. */
  action?: Target<() => unknown> | undefined;
  /** Default timeout (ms) of `wait()`. */
  timeout?: number | undefined;
}

type BarrierState = { core: CoreHandle; parties: number; action: FnRef | null };
let adopting: { core: BarrierCoreApi; parties: number; action: FnRef | null } | null = null;

/**
 * A rendezvous for a fixed number of parties, shared by every thread and process it is passed
 * to, as Python's `Barrier`: `wait()` resolves with an index in 0..parties-1 once all have
 * arrived. A timeout, `abort()`, `reset()` or a throwing action breaks it: every waiter gets
 * BrokenBarrierError (its `cause` is the action's error when the action threw).
 * @example
 * const barrier = new mp.Barrier(3, { action: () => console.log('all here') })
 * const index = await barrier.wait()
 */
export class Barrier {
  readonly #core: BarrierCoreApi;
  readonly #parties: number;
  #action: (() => unknown) | null = null;
  #actionRef: FnRef | null = null;
  #loading: Promise<Function> | null = null;

  constructor(parties: number, options: BarrierOptions = {}) {
    if (adopting) {
      const { core, action } = adopting;
      this.#core = core;
      this.#parties = adopting.parties;
      adopting = null;
      if (action) this.#load(action);
      return;
    }
    checkInteger(parties, 'parties', 1);
    checkKnown(options, 'options', ['action', 'timeout']);
    const { action, timeout } = options;
    checkTimeout(timeout, 'timeout');
    if (action !== undefined && typeof action !== 'function' && !isFunctionRef(action)) {
      invalidArg('action', 'a function or mp.ref()', action);
    }
    this.#parties = parties;
    if (typeof action === 'function') this.#action = action;
    else if (action !== undefined) this.#load(reduceFunction(action, 'the barrier action'));
    this.#core = markLocal(
      new BarrierCore(BarrierCore.fresh(parties, timeout ?? null, activeProvider().memory)),
    );
  }

  #load(ref: FnRef): void {
    this.#actionRef = ref;
    this.#loading = reviveFunction(ref);
    this.#loading.then(
      (fn) => (this.#action = fn as () => unknown),
      () => {},
    );
  }

  get #hasAction(): boolean {
    return this.#action !== null || this.#loading !== null;
  }

  /**
   * Waits until `parties` parties have called wait(); resolves with this party's index.
   * Rejects with BrokenBarrierError after `timeout` ms (the default from the constructor),
   * or when the barrier is broken.
   */
  async wait(timeout?: number): Promise<number> {
    checkTimeout(timeout);
    const { index, run } = await this.#core.arriveAsync(
      kSelf,
      timeout ?? undefined,
      this.#hasAction,
    );
    if (run) {
      try {
        const action = this.#action ?? ((await this.#loading) as () => unknown);
        await action();
      } catch (error) {
        throw this.#actionFailed(error);
      }
      this.#core.finish(kSelf, true, null);
    }
    return index;
  }

  /**
   * Like {@link wait}, blocking the calling thread. An action returning a Promise is not
   * awaited here; an action given as a module reference must have finished loading.
   */
  waitSync(timeout?: number): number {
    checkTimeout(timeout);
    const { index, run } = this.#core.arriveSync(kSelf, timeout ?? undefined, this.#hasAction);
    if (run) {
      try {
        if (!this.#action) {
          throw new Error(
            'the barrier action is still loading in this worker; use `await barrier.wait()` here',
          );
        }
        this.#action();
      } catch (error) {
        throw this.#actionFailed(error);
      }
      this.#core.finish(kSelf, true, null);
    }
    return index;
  }

  /** Breaks the barrier for everyone (their errors carry `error`); this party gets the original. */
  #actionFailed(error: unknown): BrokenBarrierError {
    try {
      this.#core.finish(kSelf, false, serializeError(error));
    } catch {
      // finish() throws the waiters' BrokenBarrierError; this party's carries the original error.
    }
    return new BrokenBarrierError('the barrier is broken: its action threw', { cause: error });
  }

  /** Breaks the barrier for current waiters (BrokenBarrierError) and makes it usable again. */
  reset(): void {
    this.#core.reset(kSelf);
  }

  /** Breaks the barrier: current and future waiters get BrokenBarrierError until reset(). */
  abort(): void {
    this.#core.abort(kSelf);
  }

  /** How many parties must call wait(). */
  get parties(): number {
    return this.#parties;
  }

  /** How many parties are waiting now. */
  get nWaiting(): number {
    return this.#core.nWaiting();
  }

  /** Whether the barrier is broken. */
  get broken(): boolean {
    return this.#core.broken();
  }

  [kReduce](destination: Destination): { kind: string; state: BarrierState } {
    if (this.#action && !this.#actionRef)
      this.#actionRef = reduceFunction(this.#action, 'the barrier action');
    return {
      kind: 'sync:Barrier',
      state: {
        core: reduceCore(this.#core, destination),
        parties: this.#parties,
        action: this.#actionRef,
      },
    };
  }

  /** `<Barrier(parties=3, waiting=1, broken=false)>`. */
  toString(): string {
    return `<Barrier(parties=${this.#parties}, waiting=${this.nWaiting}, broken=${this.broken})>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

registerPrimitive<BarrierState>('sync:Barrier', (core, s) => {
  adopting = { core: core as BarrierCoreApi, parties: s.parties, action: s.action };
  try {
    return new Barrier(s.parties);
  } finally {
    adopting = null;
  }
});
