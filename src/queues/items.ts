// Turning user items into what a channel stores and back: handles for library objects, DataCloneError for the rest.
import { DataCloneError } from '../errors.ts';
import { decode, encode, kAnotherProcess } from '../reduction/values.ts';
import type { GetResult } from './channel-steps.ts';

/** The encoded item and whether the receiver must rebuild handles in it. */
let lastWalked = false;

/**
 * Encodes an item for a channel. Library objects inside it (a Lock, another Queue…) become
 * handles for another process: they carry broker ids rather than SharedArrayBuffers,
 * because channel records are v8-serialized bytes and v8 cannot write a SharedArrayBuffer.
 * Read {@link itemWalked} right after.
 */
export function encodeItem(item: unknown): unknown {
  lastWalked = false;
  if (typeof item !== 'object' || item === null) return item;
  const e = encode(item, kAnotherProcess);
  lastWalked = e.walked;
  return e.value;
}

/** Whether the last {@link encodeItem} substituted handles. */
export function itemWalked(): boolean {
  return lastWalked;
}

/** Rebuilds the item of a successful get. */
export function decodeItem(r: GetResult): unknown {
  return r.w ? decode(r.v, true) : r.v;
}

/** Maps v8's clone failure to DataCloneError naming what was being sent; rethrows anything else. */
export function cloneFailure(error: unknown, what: string): never {
  if (error instanceof Error && /could not be cloned|DataCloneError/i.test(error.message)) {
    throw new DataCloneError(`Cannot send ${what}: ${error.message}`, { cause: error });
  }
  throw error;
}
