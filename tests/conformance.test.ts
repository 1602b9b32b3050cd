// Core conformance: every core algorithm behaves the same through every transport the library offers, alone or mixed.
//
// Two tables: the transports (how a core is reached) and the behaviours (what every core must
// do). Each behaviour runs with two views of one primitive, `a` and `b`, for every ordered pair
// of transports: [local, local] and [broker, broker] check each transport alone; the mixed
// pairs check that the transports agree on the same memory (a lock taken through one blocks the
// other, an item put through one comes out of the other). A new transport is one more row.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { remoteCore } from '../src/broker/client.ts';
import { createCore } from '../src/shared/core.ts';
import { isRemoteCore, shareCore } from '../src/broker/provider.ts';
import { checkNoLeaks, withDeadline } from './helpers/contexts.ts';
import { type Transport, type Views, kDeadlineMs } from './fixtures/conformance-kit.ts';
import { kDataBehaviours } from './fixtures/conformance-data.ts';
import { kEventBehaviours } from './fixtures/conformance-events.ts';
import { kLockBehaviours } from './fixtures/conformance-locks.ts';

checkNoLeaks();

/** The transports the library offers today. */
const kTransports: readonly Transport[] = [
  {
    // Another core object over the same SharedArrayBuffers, as a thread worker gets it.
    name: 'local',
    reach(core) {
      const view = createCore(core.kind, core.state) as typeof core;
      assert.ok(view !== core && !isRemoteCore(view), 'a second local core');
      return view;
    },
  },
  {
    // A remote core: every call travels over the socket to the broker thread, which runs the
    // algorithm on the same buffers (what a child process gets, here from its owner process).
    name: 'broker',
    reach(core) {
      const view = remoteCore(shareCore(core)) as unknown as typeof core;
      assert.ok(isRemoteCore(view), 'a remote core');
      return view;
    },
  },
];

const kBehaviours = [...kLockBehaviours, ...kEventBehaviours, ...kDataBehaviours];

for (const first of kTransports) {
  for (const second of kTransports) {
    const views: Views = { a: (core) => first.reach(core), b: (core) => second.reach(core) };
    describe(`core conformance [a: ${first.name}, b: ${second.name}]`, () => {
      for (const behaviour of kBehaviours) {
        test(`${behaviour.core}: ${behaviour.name}`, () =>
          withDeadline(
            Promise.resolve().then(() => behaviour.run(views)),
            2 * kDeadlineMs,
            behaviour.name,
          ));
      }
    });
  }
}
