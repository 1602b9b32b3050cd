// Where a channel core comes from and how it travels: its provider's wire form, with a put buffer where calls travel.
import { activeProvider } from '../shared/binding.ts';
import type { Destination } from '../reduction/values.ts';
import { type CoreWire, isRealCore, reduceCore, reviveCore } from '../shared/travel.ts';
import { ChannelCore } from './channel.ts';
import { type ChannelMeta, createChannelState } from './ring.ts';
import { unwrapFeeder, withFeeder } from './feeder.ts';

/** A channel as the public classes see it: the local core, or a remote stub with the same methods. */
export type Channel = ChannelCore;

/** The travelling form of a channel: its buffers (to a thread) or its broker handle (to a process). */
export type ChannelHandle = CoreWire;

/**
 * Creates a new channel core in this thread (in a child process too: its buffers live here, and
 * the broker of the process that owns them serves other processes).
 * @example
 * const ch = newChannel('queue', 0)
 */
export function newChannel(mode: 'queue' | 'pipe', maxsize: number): Channel {
  return new ChannelCore(createChannelState(mode, maxsize, activeProvider().memory));
}

/**
 * The handle of `channel` for a destination.
 * @example
 * const h = reduceChannel(ch, 'thread')
 */
export function reduceChannel(channel: Channel, destination: Destination): ChannelHandle {
  return reduceCore(unwrapFeeder(channel), destination);
}

/**
 * Rebuilds a channel from its handle.
 * @example
 * const ch = reviveChannel(h)
 */
export function reviveChannel(handle: ChannelHandle): Channel {
  const core = reviveCore(handle) as Channel;
  const meta = core.state.meta as ChannelMeta;
  // In a child process, puts into an unbounded queue are buffered and sent in batches.
  return !isRealCore(core) && meta.mode === 'queue' && meta.maxsize === 0 ? withFeeder(core) : core;
}
