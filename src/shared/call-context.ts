// The remote call a core method is running for right now, so a waiting core can learn that its caller went away.

/** One call the broker runs for a child; its controller is created only if the core asks for it. */
export interface BrokerCall {
  controller: AbortController | undefined;
}

let current: BrokerCall | undefined;

/** Runs `fn` with `call` as the current broker call (synchronous part only). */
export function withCall<T>(call: BrokerCall, fn: () => T): T {
  const previous = current;
  current = call;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/**
 * Inside a core method the broker is running for a child process: a signal that aborts when
 * that child disconnects (it exited, was killed, or its parent stopped the broker). Elsewhere
 * (direct calls in the owner process, or after the method's first `await`): undefined.
 * Read it synchronously at the top of an `xAsync` method that may wait.
 * @example
 * acquireAsync(owner: number, timeout?: number): Promise<boolean> {
 *   const signal = callSignal() // undefined unless a child is waiting through the broker
 *   return this.#waitFor(owner, timeout, signal)
 * }
 */
export function callSignal(): AbortSignal | undefined {
  if (!current) return undefined;
  current.controller ??= new AbortController();
  return current.controller.signal;
}
