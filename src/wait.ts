// wait(): Python's multiprocessing.connection.wait over connections, queues and processes.
import { Connection } from './connection.ts';
import type { Process } from './process.ts';
import { ChannelCore } from './queues/channel.ts';
import type { Channel } from './queues/share.ts';
import { kChannel, type Queue, type SimpleQueue } from './queues.ts';
import { deadlineOf, keepAlive, now } from './shared/atomics.ts';
import { checkArray, checkTimeout, invalidArg } from './validate.ts';

/**
 * What {@link wait} can wait on: a Connection, a queue, a Process, or a process's `sentinel`
 * (Python's wait takes sentinels; here any promise counts, ready once settled).
 */
export type Waitable =
  | Connection<any>
  | Queue<any>
  | SimpleQueue<any>
  | Pick<Process<any>, 'sentinel' | 'exitCode'>
  | Promise<unknown>;

// Promises seen by wait(), and whether each has settled (a promise cannot be asked directly).
const settled = new WeakMap<Promise<unknown>, boolean>();

function isPromise(o: unknown): o is Promise<unknown> {
  return o instanceof Promise;
}

function watchPromise(p: Promise<unknown>): boolean {
  if (!settled.has(p)) {
    settled.set(p, false);
    const done = () => void settled.set(p, true);
    p.then(done, done);
  }
  return settled.get(p)!;
}

function readyNow(o: Waitable): Promise<boolean> | boolean {
  if (isPromise(o)) return watchPromise(o);
  if (o instanceof Connection || kChannel in o)
    return (o as { [kChannel]: Channel })[kChannel].pollAsync(0);
  return (o as Process).exitCode !== null;
}

/** How long wait() lets one poll of another process's channel last before it asks again (ms). */
const kRemotePollMs = 1000;

/**
 * Settles when `o` may be ready. wait() aborts `signal` once it has its answer: a poll of a
 * local channel then ends at once (left pending, it would hold the event loop open and pile up
 * one waiter per call). A poll run by another process's broker cannot be cancelled from here,
 * so it is bounded instead: a leftover one ends within {@link kRemotePollMs}.
 */
function readyLater(o: Waitable, timeout: number, signal: AbortSignal): Promise<unknown> {
  if (isPromise(o)) return o.then(undefined, () => undefined);
  if (o instanceof Connection || kChannel in o) {
    const channel = (o as { [kChannel]: Channel })[kChannel];
    return channel instanceof ChannelCore
      ? channel.pollAsync(timeout, signal)
      : (channel as Pick<Channel, 'pollAsync'>).pollAsync(Math.min(timeout, kRemotePollMs));
  }
  return (o as Process).sentinel;
}

/**
 * Waits until at least one object is ready and resolves to the ready ones (in input order): a
 * Connection with a message or at EOF, a queue with an item or closed, a Process that has
 * ended, or its `sentinel` once settled. Resolves to `[]` after `timeout` ms (undefined waits
 * forever, ≤ 0 checks once).
 * @example
 * const ready = await mp.wait([conn, queue, proc], 1000)
 */
export async function wait<W extends Waitable>(
  objects: readonly W[],
  timeout?: number,
): Promise<W[]> {
  checkArray(objects, 'objects');
  checkTimeout(timeout);
  for (const [i, o] of objects.entries()) {
    const ok =
      o instanceof Connection ||
      isPromise(o) ||
      (typeof o === 'object' && o !== null && (kChannel in o || 'sentinel' in o));
    if (!ok) invalidArg(`objects[${i}]`, 'a Connection, a Queue, a Process or a sentinel', o);
  }
  const deadline = deadlineOf(timeout);
  const done = keepAlive();
  try {
    for (;;) {
      const flags = await Promise.all(objects.map(readyNow));
      const ready = objects.filter((_, i) => flags[i]);
      const left = deadline - now();
      if (ready.length > 0 || left <= 0) return ready;
      let timer: NodeJS.Timeout | undefined;
      const limit = left === Infinity ? 2 ** 31 - 1 : Math.min(left, 2 ** 31 - 1);
      const stop = new AbortController();
      try {
        await Promise.race([
          ...objects.map((o) => readyLater(o, limit, stop.signal)),
          new Promise((resolve) => (timer = setTimeout(resolve, limit))),
        ]);
      } finally {
        clearTimeout(timer);
        stop.abort();
      }
    }
  } finally {
    done();
  }
}
