// How values travel: library objects become handles and back, transfer() marks become transfer lists.
import { DataCloneError } from '../errors.ts';
import { describe } from '../validate.ts';
import { deserializeError, serializeError, type SerializedError } from './errors.ts';
import type { TransferListItem as Transferable } from 'node:worker_threads';

/**
 * Where an encoded value is going, as the receiving side's capabilities: decides what a handle
 * carries (the buffers themselves, or a handle that reaches them) and whether buffers move.
 */
export interface Destination {
  /** The receiver shares this process's memory: SharedArrayBuffers arrive as the same memory. */
  readonly sharesMemory: boolean;
  /** The message can move ArrayBuffers instead of copying them. */
  readonly canTransfer: boolean;
}

/**
 * Another thread of this process.
 * @example
 * encode(args, kThisProcess)
 */
export const kThisProcess: Destination = Object.freeze({ sharesMemory: true, canTransfer: true });

/**
 * Any other process: the form every receiver can revive (handles, copies).
 * @example
 * encode(item, kAnotherProcess)
 */
export const kAnotherProcess: Destination = Object.freeze({
  sharesMemory: false,
  canTransfer: false,
});

/** Implemented by library objects that travel as handles (queues, locks, shared values…). */
export interface Reducible {
  /** Returns the handle's kind (a key of the reviver registry) and its cloneable state. */
  [kReduce](destination: Destination): { kind: string; state: unknown };
}

/** The method name library objects implement to become handles. */
export const kReduce = Symbol.for('multiprocessing-ts.reduce');
const kHandleKey = '\u0000mp:handle';

type Reviver = (state: any) => unknown;
const kErrorHandle = 'error';
const revivers = new Map<string, Reviver>([
  [kErrorHandle, (state: SerializedError) => deserializeError(state)],
]);

type ViewReducer = (
  view: ArrayBufferView,
  destination: Destination,
) => { kind: string; state: unknown } | undefined;
const viewReducers: ViewReducer[] = [];

/**
 * Registers how a plain view (typed array, DataView) over memory that other processes can map
 * travels to them as that memory instead of a copy; `reduce` returns undefined for views that
 * are not over its memory.
 * @example
 * registerViewReducer((view) => placementOf(view.buffer) && { kind: 'mapped:View', state })
 */
export function registerViewReducer(reduce: ViewReducer): void {
  viewReducers.push(reduce);
}

/** Registers how a handle of `kind` is rebuilt on the receiving side. */
export function registerReviver(kind: string, revive: Reviver): void {
  revivers.set(kind, revive);
}

// Marks are kept per buffer; the view or buffer itself travels unchanged, its buffer is moved.
const transferMarks = new WeakSet<object>();
let marksEverMade = false;
let reduciblesEverMade = false;

/** Library classes call this once when they become able to travel, so encode() starts walking. */
export function noteReducible(): void {
  reduciblesEverMade = true;
}

/**
 * Marks an ArrayBuffer or typed array to be moved to the worker instead of copied (thread context);
 * the sender's copy becomes detached. Across processes it is copied.
 * @example
 * await pool.map(sum, arrays.map((a) => mp.transfer(a)))
 */
export function transfer<T extends ArrayBuffer | ArrayBufferView>(value: T): T {
  if (!(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) {
    throw new TypeError(
      `Expected \`value\` to be an ArrayBuffer or a typed array, got ${describe(value)}`,
    );
  }
  transferMarks.add(value);
  marksEverMade = true;
  return value;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The encoded form of a value: the clone-ready payload, its transfer list, and whether decode must walk it. */
export interface Encoded {
  readonly value: unknown;
  readonly transfer: Transferable[];
  readonly walked: boolean;
}

/**
 * Prepares `value` for postMessage/IPC: reducible objects become handles (copy-on-write, the
 * caller's structure is untouched) and transfer() marks fill the transfer list.
 */
export function encode(value: unknown, destination: Destination): Encoded {
  // An Error sent as a value (a queue item, a message, a returned result) travels as a thrown
  // one does, with its class, code, own properties and cause; v8's clone keeps only its name,
  // message and stack. Only at the top, so that plain values keep the fast path below.
  if (value instanceof Error) {
    return {
      value: { [kHandleKey]: kErrorHandle, state: serializeError(value) },
      transfer: [],
      walked: true,
    };
  }
  if (!marksEverMade && !reduciblesEverMade) return { value, transfer: [], walked: false };
  const list: Transferable[] = [];
  const seen = new Map<object, unknown>();
  let substituted = false;
  const walk = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v)) return seen.get(v);
    if (transferMarks.has(v)) {
      const buffer = v instanceof ArrayBuffer ? v : (v as ArrayBufferView).buffer;
      if (destination.canTransfer && buffer instanceof ArrayBuffer && !list.includes(buffer))
        list.push(buffer);
      seen.set(v, v);
      return v;
    }
    // A plain view only: a library array (a synchronized Array) travels as itself, below.
    if (
      viewReducers.length > 0 &&
      !destination.sharesMemory &&
      ArrayBuffer.isView(v) &&
      typeof (v as Partial<Reducible>)[kReduce] !== 'function'
    ) {
      for (const reduce of viewReducers) {
        const reduced = reduce(v, destination);
        if (reduced === undefined) continue;
        const handle = { [kHandleKey]: reduced.kind, state: reduced.state };
        substituted = true;
        seen.set(v, handle);
        return handle;
      }
    }
    if (typeof (v as Partial<Reducible>)[kReduce] === 'function') {
      const { kind, state } = (v as Reducible)[kReduce](destination);
      const handle = { [kHandleKey]: kind, state: walk(state) };
      substituted = true;
      seen.set(v, handle);
      return handle;
    }
    if (Array.isArray(v)) {
      let out: unknown[] | null = null;
      seen.set(v, v);
      for (let i = 0; i < v.length; i++) {
        const item = v[i];
        if (typeof item !== 'object' || item === null) continue;
        const enc = walk(item);
        if (enc !== item) {
          out ??= v.slice();
          out[i] = enc;
        }
      }
      if (out) seen.set(v, out);
      return out ?? v;
    }
    if (v instanceof Map) {
      let changed = false;
      const entries = [...v].map(([k, x]) => {
        const [ek, ex] = [walk(k), walk(x)];
        if (ek !== k || ex !== x) changed = true;
        return [ek, ex] as const;
      });
      return changed ? new Map(entries) : v;
    }
    if (v instanceof Set) {
      let changed = false;
      const items = [...v].map((x) => {
        const ex = walk(x);
        if (ex !== x) changed = true;
        return ex;
      });
      return changed ? new Set(items) : v;
    }
    if (isPlainObject(v)) {
      let out: Record<string, unknown> | null = null;
      seen.set(v, v);
      for (const key of Object.keys(v)) {
        const item = (v as Record<string, unknown>)[key];
        if (typeof item !== 'object' || item === null) continue;
        const enc = walk(item);
        if (enc !== item) {
          out ??= { ...(v as Record<string, unknown>) };
          out[key] = enc;
        }
      }
      if (out) seen.set(v, out);
      return out ?? v;
    }
    return v;
  };
  const out = walk(value);
  return { value: out, transfer: list, walked: substituted };
}

/** Rebuilds handles in a received value (only when the sender substituted some). */
export function decode(value: unknown, walked: boolean): unknown {
  if (!walked) return value;
  // Maps each visited object to what it became, so that a handle met twice (the same queue
  // passed in two places) revives once and both places get the same object.
  const seen = new Map<object, unknown>();
  const walk = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v)) return seen.get(v);
    if (kHandleKey in v) {
      const kind = (v as Record<string, unknown>)[kHandleKey] as string;
      const revive = revivers.get(kind);
      if (!revive) throw new Error(`assertion failed: no reviver for handle kind '${kind}'`);
      const revived = revive(walk((v as unknown as { state: unknown }).state));
      seen.set(v, revived);
      return revived;
    }
    seen.set(v, v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i]);
    } else if (v instanceof Map) {
      const entries = [...v].map(([k, x]) => [walk(k), walk(x)] as const);
      v.clear();
      for (const [k, x] of entries) v.set(k, x);
    } else if (v instanceof Set) {
      const items = [...v].map(walk);
      v.clear();
      for (const x of items) v.add(x);
    } else if (isPlainObject(v)) {
      for (const key of Object.keys(v))
        (v as Record<string, unknown>)[key] = walk((v as Record<string, unknown>)[key]);
    }
    return v;
  };
  return walk(value);
}

/**
 * Turns a clone failure into a DataCloneError naming what failed: for argument lists, the
 * position of the first argument that cannot be cloned.
 */
export function cloneError(
  error: unknown,
  what: string,
  args?: readonly unknown[],
): DataCloneError {
  const reason = error instanceof Error ? error.message : String(error);
  if (args) {
    for (let i = 0; i < args.length; i++) {
      try {
        structuredClone(args[i]);
      } catch (e) {
        return new DataCloneError(
          `Cannot send argument ${i} of ${what} (${describe(args[i])}) to the worker: ${(e as Error).message}`,
          { cause: error },
        );
      }
    }
  }
  return new DataCloneError(`Cannot send ${what} to the worker: ${reason}`, { cause: error });
}
