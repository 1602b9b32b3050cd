// Test helpers: run a suite under every local context, with deadlines, and fail on leaked workers or handles.
import { after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  type Capabilities,
  capabilitiesOf,
  liveWorkerCount,
  registeredMethods,
} from '../../src/backends/index.ts';
import * as mp from '../../src/index.ts';
import { existsSync } from 'node:fs';
import { brokerDirectory, stopBroker } from '../../src/broker/provider.ts';

export { capabilitiesOf };
export type { Capabilities };

/** A start method's name, as the registry knows it. */
export type ContextName = mp.StartMethod;

/**
 * The contexts every suite runs under: every registered start method, the default first. With
 * `MULTIPROCESSING_TS_SHARED_MEMORY=broker` (the second run of `npm test`), only the contexts
 * that memory setting changes: the others ran already.
 */
export const kContexts: readonly ContextName[] = registeredMethods().filter(
  (name) =>
    process.env.MULTIPROCESSING_TS_SHARED_MEMORY !== 'broker' ||
    mp.getContext(name).sharedMemory === 'broker',
);

/** A capability a suite can ask of the contexts it runs under. */
export type Capability = keyof Capabilities;

/** Which contexts a suite applies to, by capability. */
export interface ContextFilter {
  /** Capabilities a context must have. @default [] */
  readonly requires?: readonly Capability[];
  /** Capabilities a context must not have. @default [] */
  readonly lacks?: readonly Capability[];
}

/** Why `caps` does not fit `filter` ('' when it does). */
function mismatch(caps: Capabilities, filter: ContextFilter): string {
  const missing = (filter.requires ?? []).filter((c) => !caps[c]);
  const present = (filter.lacks ?? []).filter((c) => caps[c]);
  return [
    ...missing.map((c) => `needs ${c}`),
    ...present.map((c) => `not for contexts with ${c}`),
  ].join(', ');
}

/**
 * Runs `body` once per registered context inside a `describe` named after it, with the
 * context's capabilities. A context that `filter` leaves out gets an empty `describe` whose name
 * says why, so the report shows what did not run (no `.skip`).
 * @example
 * forEachContext('Pool signals', (ctx, name, caps) => { ... }, { requires: ['ownProcess'] })
 */
export function forEachContext(
  title: string,
  body: (ctx: mp.Context, name: ContextName, caps: Capabilities) => void,
  filter: ContextFilter = {},
): void {
  for (const name of kContexts) {
    const caps = capabilitiesOf(name);
    const why = mismatch(caps, filter);
    const ctx = mp.getContext(name);
    // The memory mode is part of the name: the suites run once more with the broker forced.
    const label = ctx.sharedMemory === 'local' ? name : `${name}, ${ctx.sharedMemory}`;
    if (why) describe(`${title} [${label}]: not run (${why})`, () => {});
    else describe(`${title} [${label}]`, () => body(ctx, name, caps));
  }
}

/** Resolves when `predicate` holds, polling on the event loop; rejects after `ms` (a deadline, not a sleep). */
export async function waitUntil(
  predicate: () => boolean,
  ms = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Rejects if `promise` does not settle within `ms`. */
export async function withDeadline<T>(
  promise: Promise<T>,
  ms = 20_000,
  what = 'operation',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`deadline of ${ms} ms passed waiting for ${what}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Active libuv resources by type (`process.getActiveResourcesInfo()`), as "type×count" entries. */
function resources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo())
    counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** What `now` holds beyond `base`: "type × n" for each resource type that grew. */
function grown(base: Map<string, number>, now: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [type, n] of now)
    if (n > (base.get(type) ?? 0)) out.push(`${type} × ${n - (base.get(type) ?? 0)}`);
  return out;
}

/**
 * Registers a file-level check that the file's tests leave nothing behind: no worker or Process
 * running, no broker thread or socket directory, and no handle (socket, timer, port…) more than
 * when the file started. Call it at the top of a test file, before other hooks.
 */
export function checkNoLeaks(): void {
  const base = resources();
  after(async () => {
    // Workers that were told to stop need a moment to report their exit: wait on that, with a deadline.
    await waitUntil(() => liveWorkerCount() === 0, 10_000, 'every worker to exit').catch(() => {});
    assert.equal(liveWorkerCount(), 0, 'a test left a worker running');
    assert.deepEqual(mp.activeChildren(), [], 'a test left a Process running');
    // The broker thread (process context) must stop and leave no socket directory behind.
    const dir = brokerDirectory();
    await stopBroker();
    assert.equal(brokerDirectory(), null, 'the broker thread is still running');
    if (dir) assert.equal(existsSync(dir), false, `the broker left its directory ${dir}`);
    // Closed handles leave libuv on its next turns: wait for that, with a deadline.
    await waitUntil(() => grown(base, resources()).length === 0, 5_000, 'handles to close').catch(
      () => {},
    );
    assert.deepEqual(grown(base, resources()), [], 'a test left handles open');
  });
}

/** Captures what the current thread writes to stderr while `fn` runs (workers' output is not included). */
export async function captureStderr<T>(fn: () => Promise<T>): Promise<{ value: T; text: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await fn(), text };
  } finally {
    process.stderr.write = write;
  }
}
