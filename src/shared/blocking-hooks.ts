// Hooks that run before this thread blocks on a call to another process.
//
// A child's buffered queue puts must leave before it blocks waiting for another process, or the
// process it waits for may be waiting for them (see queues/feeder.ts). Transports that block
// call runBeforeBlocking(); buffering primitives register here, so neither imports the other.

const hooks = new Set<() => void>();
let running = false;

/**
 * Registers `hook` to run before every blocking call from this thread (not re-entered from
 * within a hook's own blocking calls).
 * @example
 * onBeforeBlockingCall(() => feeder.flush())
 */
export function onBeforeBlockingCall(hook: () => void): void {
  hooks.add(hook);
}

/**
 * Runs the registered hooks, unless already inside one of them.
 * @example
 * runBeforeBlocking(); bridge.call(id, method, args)
 */
export function runBeforeBlocking(): void {
  if (hooks.size === 0 || running) return;
  running = true;
  try {
    for (const hook of hooks) hook();
  } finally {
    running = false;
  }
}
