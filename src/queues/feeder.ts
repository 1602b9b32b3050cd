// Buffers a child process's puts into an unbounded queue and sends them in batches, as Python's feeder thread does.
//
// In a child process every call on a queue is a round trip to the broker. A put into an
// unbounded queue never waits, so — like Python, whose put() hands the item to a feeder thread —
// the child keeps its puts in a local buffer and sends them in one call: when the buffer is
// full, when the event loop next turns, before any other operation on the same queue (so this
// process sees its own puts in order), and when the process exits. Items of one producer keep
// their order. As in Python, a child killed before a flush loses what it had buffered, and a
// put that races another process's close() is dropped with a warning on stderr; a put after this
// process's own close() fails at the call, as it does unbuffered.
import { serialize } from 'node:v8';
import type { Channel } from './share.ts';
import { Status } from './channel-steps.ts';
import { onBeforeBlockingCall } from '../shared/blocking-hooks.ts';

const kBatch = 4096;
type Item = readonly [value: unknown, walked: boolean];

const feeders = new Set<Feeder>();
let hooksInstalled = false;

class Feeder {
  readonly #core: Channel;
  #pending: Item[] = [];
  #scheduled = false;
  #refused: Status = Status.Ok;

  constructor(core: Channel) {
    this.#core = core;
  }

  put(value: unknown, walked: boolean): Status {
    if (this.#refused !== Status.Ok) return this.#refused;
    // The batch is cloned later, all at once: an item that cannot be cloned must fail here, at
    // its own put (DataCloneError), not take the good items of its batch down at the flush.
    const type = typeof value;
    if ((type === 'object' && value !== null) || type === 'function' || type === 'symbol') {
      serialize(value);
    }
    this.#pending.push([value, walked]);
    if (this.#pending.length >= kBatch) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      feeders.add(this);
      setImmediate(() => this.#scheduled && this.flush());
    }
    return Status.Ok;
  }

  /** This process closed the queue: later puts fail at the call, as they do unbuffered. */
  closed(): void {
    this.#pending = [];
    this.#refused = Status.Closed;
  }

  /** Sends what is buffered (one blocking round trip); returns how the queue answered. */
  flush(): Status {
    this.#scheduled = false;
    feeders.delete(this);
    if (this.#pending.length === 0) return this.#refused;
    const batch = this.#pending;
    this.#pending = [];
    const { s, done } = this.#core.putMany(batch);
    if (s !== Status.Ok) {
      this.#refused = s;
      process.emitWarning(
        `${batch.length - done} item(s) put into a queue that was closed meanwhile were dropped`,
        {
          code: 'MP_QUEUE_CLOSED',
        },
      );
    }
    return s;
  }
}

function flushAll(): void {
  for (const f of [...feeders]) f.flush();
}

// Buffered items must leave before the process does (Python joins its feeder threads at exit),
// and before it blocks on anything shared: whoever it waits for may be waiting for them.
function installFlushHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', flushAll);
  onBeforeBlockingCall(flushAll);
}

const wrapped = new WeakMap<Channel, Channel>();
const unwrapped = new WeakMap<Channel, { core: Channel; feeder: Feeder }>();

/**
 * The core under a feeder wrapper (its buffer sent first), for travel: handles name the core.
 * @example
 * reduceCore(unwrapFeeder(channel), destination)
 */
export function unwrapFeeder(channel: Channel): Channel {
  const entry = unwrapped.get(channel);
  if (!entry) return channel;
  entry.feeder.flush();
  return entry.core;
}

/**
 * Wraps a child process's remote core of an unbounded queue so that puts are buffered and every
 * other call first sends the buffer.
 * @example
 * const channel = withFeeder(reviveCore(handle) as Channel)
 */
export function withFeeder(core: Channel): Channel {
  const known = wrapped.get(core);
  if (known) return known;
  installFlushHooks();
  const feeder = new Feeder(core);
  const put = (value: unknown, walked: boolean): Status => feeder.put(value, walked);
  const proxy = new Proxy(core, {
    get(target, key) {
      if (key === 'putNowait' || key === 'putSync') {
        return (value: unknown, walked: boolean, ...rest: unknown[]) =>
          // asBytes (the last argument) is a pipe feature; a queue never sets it.
          rest.at(-1) === true
            ? (feeder.flush(), (target[key] as Function)(value, walked, ...rest))
            : put(value, walked);
      }
      if (key === 'putAsync') return async (value: unknown, walked: boolean) => put(value, walked);
      if (key === 'close') {
        return () => {
          feeder.flush();
          target.close();
          feeder.closed();
        };
      }
      const member = Reflect.get(target, key, target);
      if (typeof member !== 'function' || key === 'putMany') return member;
      return (...args: unknown[]) => {
        feeder.flush();
        return (member as Function).apply(target, args);
      };
    },
  });
  wrapped.set(core, proxy);
  unwrapped.set(proxy, { core, feeder });
  return proxy;
}
