// The default start method of this thread: fixed on first use, changed only by setStartMethod.
import type { LocalMethod } from '../backends/types.ts';
import { registeredMethods } from '../backends/registry.ts';

const kKey = Symbol.for('multiprocessing-ts.start-method');
type Slot = { method: LocalMethod | null };

function slot(): Slot {
  const g = globalThis as { [kKey]?: Slot };
  return (g[kKey] ??= { method: null });
}

/** The default method, or null when nothing has fixed it yet. */
export function peekMethod(): LocalMethod | null {
  return slot().method;
}

/**
 * The default method, fixing it to the first registered one (threads) if nothing has chosen one
 * (Python fixes it on first use).
 */
export function fixMethod(): LocalMethod {
  return (slot().method ??= registeredMethods()[0]!);
}

/** Sets (or, with null, clears) the default method. */
export function assignMethod(method: LocalMethod | null): void {
  slot().method = method;
}
