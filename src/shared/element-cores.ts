// The cores behind Value and Array: elements of one typecode in shared memory, reachable through the broker.
import { createCore, registerCore, type CoreState, type SharedCore } from './core.ts';
import type { MutexCore } from '../synchronize/mutex-core.ts';
import { allocate, viewOf, type AnyTypedArray, type Typecode } from './typecodes.ts';
import { type Memory, kLocalMemory } from './memory.ts';

/** What buffer cores offer: element access that also works through the broker. */
export interface BufferCoreApi extends SharedCore {
  get(index: number): number | bigint;
  set(index: number, value: number | bigint): void;
  /** A copy of elements start..end. */
  read(start: number, end: number): AnyTypedArray;
  /** Stores `values` from element `start`. */
  write(start: number, values: ArrayLike<number | bigint>): void;
}

interface BufferMeta {
  readonly typecode: Typecode;
  readonly length: number;
}

/**
 * Elements of one typecode over a shared buffer; what a child process reaches through the broker
 * for Array elements and SharedMemory bytes.
 * @example
 * const core = new BufferCore({ buffers: [allocate('d', 8)], meta: { typecode: 'd', length: 8 } })
 */
export class BufferCore implements BufferCoreApi {
  readonly kind: string = 'Buffer';
  readonly state: CoreState;
  readonly view: AnyTypedArray;

  constructor(state: CoreState) {
    this.state = state;
    const { typecode, length } = state.meta as BufferMeta;
    this.view = viewOf(typecode, state.buffers[0]!, 0, length);
  }

  /** A state over `buffer` holding `length` elements of `typecode`. */
  static over(typecode: Typecode, buffer: SharedArrayBuffer, length: number): CoreState {
    return { buffers: [buffer], meta: { typecode, length } satisfies BufferMeta };
  }

  get(index: number): number | bigint {
    return this.view[index]!;
  }

  set(index: number, value: number | bigint): void {
    (this.view as { [i: number]: number | bigint })[index] = value;
  }

  read(start: number, end: number): AnyTypedArray {
    return this.view.slice(start, end) as AnyTypedArray;
  }

  write(start: number, values: ArrayLike<number | bigint>): void {
    (this.view as { set(v: ArrayLike<number | bigint>, o: number): void }).set(values, start);
  }
}

registerCore('Buffer', (state) => new BufferCore(state));

/** What value cores add: reads and writes that take the value's lock for their own duration. */
export interface ValueCoreApi extends BufferCoreApi {
  getLockedSync(owner: number): number | bigint;
  getLockedAsync(owner: number): Promise<number | bigint>;
  setLockedSync(owner: number, value: number | bigint): void;
  setLockedAsync(owner: number, value: number | bigint): Promise<void>;
}

/**
 * A one-element buffer plus the core of its lock: one broker round trip per `.value` in a child.
 * @example
 * const core = new ValueCore(ValueCore.fresh('i', 'RLock', lockState))
 */
export class ValueCore extends BufferCore implements ValueCoreApi {
  override readonly kind = 'Value';
  readonly #lock: MutexCore;

  constructor(state: CoreState) {
    super({ buffers: state.buffers.slice(0, 1), meta: state.meta });
    (this as { state: CoreState }).state = state;
    const { lockKind } = state.meta as { lockKind: string };
    this.#lock = createCore(lockKind, { buffers: state.buffers.slice(1) }) as MutexCore;
  }

  /** A state, in `memory`, for one element of `typecode` guarded by the lock of state `lock`. */
  static fresh(
    typecode: Typecode,
    lockKind: string,
    lock: CoreState,
    memory: Memory = kLocalMemory,
  ): CoreState {
    return {
      buffers: [allocate(typecode, 1, memory), ...lock.buffers],
      meta: { typecode, length: 1, lockKind },
    };
  }

  getLockedSync(owner: number): number | bigint {
    this.#lock.acquireSync(owner, undefined);
    const v = this.view[0]!;
    this.#lock.release(owner);
    return v;
  }

  async getLockedAsync(owner: number): Promise<number | bigint> {
    await this.#lock.acquireAsync(owner, undefined);
    const v = this.view[0]!;
    this.#lock.release(owner);
    return v;
  }

  setLockedSync(owner: number, value: number | bigint): void {
    this.#lock.acquireSync(owner, undefined);
    (this.view as { [i: number]: number | bigint })[0] = value;
    this.#lock.release(owner);
  }

  async setLockedAsync(owner: number, value: number | bigint): Promise<void> {
    await this.#lock.acquireAsync(owner, undefined);
    (this.view as { [i: number]: number | bigint })[0] = value;
    this.#lock.release(owner);
  }
}

registerCore('Value', (state) => new ValueCore(state));
