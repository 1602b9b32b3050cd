// Tests of the two seams of shared state: wake-ups (foreign wakers, spurious returns), allocation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type WaitLoop,
  type WaitResult,
  type Waker,
  deadlineOf,
  kSelf,
  notify,
  registerWaker,
  runAsync,
  runSync,
  waitAsync,
  waitSync,
} from '../src/shared/atomics.ts';
import { type Memory, allocateShared, kLocalMemory } from '../src/shared/memory.ts';
import { MutexCore } from '../src/synchronize/mutex-core.ts';
import { SemaphoreCore } from '../src/synchronize/semaphore.ts';
import { EventCore } from '../src/synchronize/event.ts';
import { ConditionCore } from '../src/synchronize/condition.ts';
import { BarrierCore } from '../src/synchronize/barrier-core.ts';
import { ChannelCore } from '../src/queues/channel.ts';
import { H, createChannelState } from '../src/queues/ring.ts';
import { Status } from '../src/queues/channel-steps.ts';
import { allocate } from '../src/shared/typecodes.ts';

/** A memory whose buffers are plain ones, remembered so a waker can claim them. */
function trackedMemory(): Memory & { readonly owns: (b: SharedArrayBuffer) => boolean } {
  const mine = new WeakSet<SharedArrayBuffer>();
  return {
    allocate(bytes, options) {
      const buffer = kLocalMemory.allocate(bytes, options);
      mine.add(buffer);
      return buffer;
    },
    owns: (b) => mine.has(b),
  };
}

/** A waker that counts its calls and sleeps as V8 would. */
function countingWaker(): Waker & { calls: number } {
  const waker = {
    calls: 0,
    waitSync(a: Int32Array, at: number, expected: number, ms: number): WaitResult {
      waker.calls++;
      return Atomics.wait(a, at, expected, ms);
    },
    async waitAsync(a: Int32Array, at: number, expected: number, ms: number) {
      waker.calls++;
      return Atomics.waitAsync(a, at, expected, ms).value;
    },
    notify(a: Int32Array, at: number, count: number): number {
      waker.calls++;
      return Atomics.notify(a, at, count);
    },
  };
  return waker;
}

/** A futex at its worst: every wait returns at once, as if woken spuriously. */
const kSpurious: Waker = {
  waitSync: () => 'ok',
  waitAsync: () => new Promise<WaitResult>((resolve) => setImmediate(() => resolve('ok'))),
  notify: () => 0,
};

describe('wake-up seam', () => {
  it('routes the waits and wakes of owned buffers to their waker, the others to V8', async () => {
    const memory = trackedMemory();
    const waker = countingWaker();
    const unregister = registerWaker(memory.owns, waker);
    try {
      const own = new Int32Array(allocateShared(8, undefined, memory));
      const local = new Int32Array(allocateShared(8));
      assert.equal(waitSync(own, 0, 1, 0), 'not-equal');
      assert.equal(await waitAsync(own, 0, 0, 1), 'timed-out');
      assert.equal(notify(own, 0), 0);
      assert.equal(waker.calls, 3);
      assert.equal(waitSync(local, 0, 0, 1), 'timed-out');
      notify(local, 0);
      assert.equal(waker.calls, 3);
      // A core built in that memory waits through the waker.
      const sem = new SemaphoreCore(SemaphoreCore.fresh(0, -1, memory));
      assert.equal(sem.acquireSync(kSelf, 5), false);
      assert.ok(waker.calls > 3);
    } finally {
      unregister();
    }
    const calls = waker.calls;
    waitSync(new Int32Array(allocateShared(4, undefined, memory)), 0, 0, 1);
    assert.equal(waker.calls, calls, 'unregistered');
  });

  it('keeps every wait loop correct when each wait returns at once', async () => {
    const memory = trackedMemory();
    const unregister = registerWaker(memory.owns, kSpurious);
    try {
      const mutex = new MutexCore('Lock', MutexCore.fresh(memory));
      assert.equal(mutex.acquireSync(kSelf, undefined), true);
      assert.equal(mutex.acquireSync(kSelf, 20), false);
      assert.equal(await mutex.acquireAsync(kSelf, 20), false);
      mutex.release(kSelf);
      assert.equal(await mutex.acquireAsync(kSelf, 20), true);
      mutex.release(kSelf);

      const sem = new SemaphoreCore(SemaphoreCore.fresh(0, -1, memory));
      assert.equal(sem.acquireSync(kSelf, 20), false);
      assert.equal(await sem.acquireAsync(kSelf, 20), false);
      sem.release(kSelf);
      assert.equal(await sem.acquireAsync(kSelf, 20), true);

      const event = new EventCore(EventCore.fresh(memory));
      assert.equal(event.waitSync(kSelf, 20), false);
      assert.equal(await event.waitAsync(kSelf, 20), false);

      const lock = MutexCore.fresh(memory);
      const cond = new ConditionCore(ConditionCore.fresh('RLock', lock, memory));
      const rlock = new MutexCore('RLock', lock);
      rlock.acquireSync(kSelf, undefined);
      assert.equal(cond.waitSync(kSelf, 20), false);
      assert.equal(await cond.waitAsync(kSelf, 20), false);
      assert.equal(cond.waiting(), 0);
      rlock.release(kSelf);

      const barrier = new BarrierCore(BarrierCore.fresh(2, null, memory));
      assert.throws(() => barrier.arriveSync(kSelf, 20, false), { name: 'BrokenBarrierError' });

      const channel = new ChannelCore(createChannelState('queue', 1, memory));
      const h = new Int32Array(channel.state.buffers[0]!, 0, 32);
      assert.deepEqual(channel.getSync(20), { s: Status.NotNow });
      assert.deepEqual(await channel.getAsync(20), { s: Status.NotNow });
      assert.equal(channel.pollSync(20), false);
      assert.equal(await channel.pollAsync(20), false);
      assert.equal(channel.putSync(1, false, undefined), Status.Ok);
      assert.equal(channel.putSync(2, false, 20), Status.NotNow);
      assert.equal(await channel.putAsync(2, false, 20), Status.NotNow);
      assert.equal(channel.joinSync(20), false);
      assert.equal(await channel.joinAsync(20), false);
      for (const w of [H.GetWaiters, H.PutWaiters, H.PollWaiters, H.JoinWaiters])
        assert.equal(h[w], 0, `waiter count ${w} back to 0`);
    } finally {
      unregister();
    }
  });

  it('runs one wait loop with either driver', async () => {
    function* untilSet(a: Int32Array, end: number): WaitLoop<number> {
      let waits = 0;
      while (Atomics.load(a, 0) === 0) {
        if (performance.now() >= end) return -1;
        waits++;
        yield { a, at: 0, expected: 0, ms: end - performance.now() };
      }
      return waits;
    }
    const a = new Int32Array(allocateShared(4));
    assert.equal(runSync(untilSet(a, deadlineOf(5))), -1);
    assert.equal(await runAsync(untilSet(a, deadlineOf(5))), -1);
    const pending = runAsync(untilSet(a, Infinity));
    Atomics.store(a, 0, 1);
    notify(a, 0);
    assert.equal(await pending, 1);
    assert.equal(runSync(untilSet(a, Infinity)), 0);
  });
});

describe('allocation seam', () => {
  it('gives fixed or growable zeroed buffers, from the memory asked for', () => {
    const fixed = allocateShared(16);
    assert.equal(fixed.byteLength, 16);
    assert.equal(fixed.growable, false);
    const growable = allocateShared(16, { maxByteLength: 64 });
    assert.equal(growable.growable, true);
    growable.grow(64);
    assert.deepEqual([...new Uint8Array(growable)], new Array(64).fill(0));
    const memory = trackedMemory();
    assert.ok(memory.owns(allocate('d', 4, memory)));
    assert.ok(!memory.owns(allocate('d', 4)));
    assert.ok(memory.owns(createChannelState('pipe', 0, memory).buffers[0]!));
  });
});
