// Where a channel core comes from and how it travels: local buffers in threads, the broker for child processes.
import type { Destination } from '../reduction/values.ts';
import { createCore } from '../shared/core.ts';
import { ChannelCore, createChannelState, kChannelKind } from './channel.ts';

/** A channel as the public classes see it: the local core, or a remote stub with the same methods. */
export type Channel = ChannelCore;

/** The travelling form of a channel. */
export interface ChannelHandle {
  readonly via: 'buffers';
  readonly state: ChannelCore['state'];
}

/**
 * Creates a new channel core in this thread.
 * @example
 * const ch = newChannel('queue', 0)
 */
export function newChannel(mode: 'queue' | 'pipe', maxsize: number): Channel {
  return new ChannelCore(createChannelState(mode, maxsize));
}

/**
 * The handle of `channel` for a destination.
 * @example
 * const h = reduceChannel(ch, 'thread')
 */
export function reduceChannel(channel: Channel, _destination: Destination): ChannelHandle {
  return { via: 'buffers', state: channel.state };
}

/**
 * Rebuilds a channel from its handle.
 * @example
 * const ch = reviveChannel(h)
 */
export function reviveChannel(handle: ChannelHandle): Channel {
  return createCore(kChannelKind, handle.state) as Channel;
}
