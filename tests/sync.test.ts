// Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier in both contexts: Python's semantics (A.5), errors, stress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import * as w from './fixtures/sync-workers.ts';

checkNoLeaks();

async function run(
  ctx: mp.Context,
  target: (...a: any[]) => unknown,
  args: unknown[],
): Promise<number | null> {
  const p = new ctx.Process({ target, args });
  p.start();
  await withDeadline(p.join(), 60_000, `${p.name} to exit`);
  return p.exitCode;
}

function isState(code: string) {
  return (e: unknown) => e instanceof mp.InvalidStateError && e.code === code;
}

forEachContext('Lock', (ctx, _name, caps) => {
  test('acquire, non-blocking and timed attempts, release', async () => {
    const lock = new ctx.Lock();
    assert.equal(String(lock), '<Lock(owner=None)>');
    assert.equal(await lock.acquire(), true);
    assert.equal(String(lock), '<Lock(owner=MainProcess)>');
    assert.equal(await lock.acquire({ block: false }), false);
    assert.equal(lock.acquireSync({ block: false }), false);
    assert.equal(await lock.acquire({ timeout: 20 }), false);
    assert.equal(lock.acquireSync({ timeout: 20 }), false);
    assert.equal(await lock.acquire({ timeout: -5 }), false, 'a negative timeout does not wait');
    lock.release();
    assert.equal(lock.acquireSync({ timeout: 0 }), true);
    lock.release();
  });

  test('releasing an unlocked Lock throws ERR_RELEASED_TOO_MANY_TIMES', () => {
    const lock = new ctx.Lock();
    assert.throws(() => lock.release(), isState('ERR_RELEASED_TOO_MANY_TIMES'));
    assert.throws(() => lock.release(), /semaphore or lock released too many times/);
  });

  test('bad options are TypeErrors naming the option', async () => {
    const lock = new ctx.Lock();
    await assert.rejects(lock.acquire({ timeout: 'x' as never }), TypeError);
    await assert.rejects(lock.acquire({ blocking: false } as never), /named `block`/);
    assert.throws(
      () => lock.acquireSync({ block: 1 as never }),
      /Expected `block` to be a boolean/,
    );
    await assert.rejects(lock.withLock(5 as never), /Expected `fn` to be a function/);
  });

  test('withLock releases after a throw and returns the value', async () => {
    const lock = new ctx.Lock();
    assert.equal(await lock.withLock(async () => 7), 7);
    await assert.rejects(
      lock.withLock(() => {
        throw new Error('inside');
      }),
      /inside/,
    );
    assert.equal(lock.acquireSync({ block: false }), true, 'released after the throw');
    lock.release();
    assert.equal(
      lock.withLockSync(() => 'sync'),
      'sync',
    );
  });

  test('an async waiter gets the lock when another holder releases it', async () => {
    const lock = new ctx.Lock();
    await lock.acquire();
    const waiting = lock.acquire({ timeout: 10_000 });
    setImmediate(() => lock.release());
    assert.equal(await withDeadline(waiting), true);
    lock.release();
  });

  test('a worker may release a Lock held by the parent (Python allows any releaser)', async () => {
    const lock = new ctx.Lock();
    lock.acquireSync();
    const done = new ctx.Event();
    const codes = ctx.Array('i', 1, { lock: false });
    assert.equal(await run(ctx, w.releaseForeign, [lock, done, codes]), 0);
    assert.equal(codes[0], 1, 'the release succeeded');
    assert.equal(lock.acquireSync({ block: false }), true);
    lock.release();
  });

  test('contention: 3 workers × 2,000 increments under one Lock stay exact', async () => {
    const lock = new ctx.Lock();
    const counter = ctx.Array('i', 1, { lock: false });
    // Fewer where each access is a round trip to another thread.
    const n = caps.syncCalls ? 2000 : 200;
    const ps = [0, 1, 2].map(
      () => new ctx.Process({ target: w.incrementWithLock, args: [lock, counter, n] }),
    );
    for (const p of ps) p.start();
    for (const p of ps) await withDeadline(p.join(), 90_000);
    assert.deepEqual(
      ps.map((p) => p.exitCode),
      [0, 0, 0],
    );
    assert.equal(counter[0], 3 * n);
  });

  test('a holder killed while holding the Lock: acquire({ timeout }) still times out', async () => {
    const lock = new ctx.Lock();
    const held = new ctx.Event();
    const p = new ctx.Process({ target: w.holdForever, args: [lock, held] });
    p.start();
    assert.equal(await withDeadline(held.wait(30_000)), true);
    p.kill();
    await withDeadline(p.join());
    assert.equal(p.exitCode, -9);
    // The lock stays held by the dead holder (as in Python): waits time out instead of hanging.
    assert.equal(await lock.acquire({ timeout: 50 }), false);
    assert.equal(lock.acquireSync({ timeout: 50 }), false);
    // Python allows any process to release a Lock: this is how a supervisor recovers it.
    lock.release();
    assert.equal(await lock.acquire({ timeout: 1000 }), true);
    lock.release();
  });
});

forEachContext('RLock', (ctx) => {
  test('re-entrant acquire and matching releases; repr shows owner and depth', async () => {
    const r = new ctx.RLock();
    assert.equal(String(r), '<RLock(None, 0)>');
    assert.equal(r.acquireSync(), true);
    assert.equal(await r.acquire(), true);
    assert.equal(r.acquireSync({ block: false }), true);
    assert.equal(String(r), '<RLock(MainProcess, 3)>');
    r.release();
    r.release();
    r.release();
    assert.equal(String(r), '<RLock(None, 0)>');
    assert.throws(() => r.release(), isState('ERR_NOT_OWNER'));
    assert.throws(() => r.release(), /attempt to release recursive lock not owned by thread/);
  });

  test('a release by a non-owner worker throws ERR_NOT_OWNER there', async () => {
    const r = new ctx.RLock();
    r.acquireSync();
    const done = new ctx.Event();
    const codes = ctx.Array('i', 1, { lock: false });
    assert.equal(await run(ctx, w.releaseForeign, [r, done, codes]), 0);
    assert.equal(codes[0], 2);
    r.release();
  });

  test('a waiter in a worker blocks until the owner has released every level', async () => {
    const r = new ctx.RLock();
    const v = ctx.Value('i', 0, { lock: r });
    r.acquireSync();
    r.acquireSync();
    const p = new ctx.Process({ target: w.incrementSync, args: [v, 5] });
    p.start();
    r.release();
    assert.equal(v.value, 0, 'still held once: the worker cannot have incremented');
    r.release();
    await withDeadline(p.join(), 60_000);
    assert.equal(v.value, 5);
  });
});

forEachContext('Semaphore / BoundedSemaphore', (ctx, _name, caps) => {
  test('counting, timeouts, release above the initial value', async () => {
    const s = new ctx.Semaphore(2);
    assert.equal(s.getValue(), 2);
    assert.equal(await s.acquire(), true);
    assert.equal(s.acquireSync(), true);
    assert.equal(s.getValue(), 0);
    assert.equal(await s.acquire({ timeout: 20 }), false);
    assert.equal(s.acquireSync({ block: false }), false);
    s.release();
    s.release();
    s.release();
    assert.equal(s.getValue(), 3, 'a Semaphore may go above its initial value');
    assert.equal(String(s), '<Semaphore(value=3)>');
    const zero = new ctx.Semaphore(0);
    const waiting = zero.acquire({ timeout: 10_000 });
    setImmediate(() => zero.release());
    assert.equal(await withDeadline(waiting), true);
  });

  test('bad values: Semaphore(-1) is a RangeError, Semaphore(1.5) a TypeError', () => {
    assert.throws(() => new ctx.Semaphore(-1), RangeError);
    assert.throws(() => new ctx.Semaphore(1.5), TypeError);
    assert.throws(() => new ctx.BoundedSemaphore(-1), RangeError);
  });

  test('BoundedSemaphore refuses to go above its initial value', async () => {
    const b = new ctx.BoundedSemaphore(2);
    assert.throws(() => b.release(), isState('ERR_RELEASED_TOO_MANY_TIMES'));
    await b.acquire();
    assert.equal(String(b), '<BoundedSemaphore(value=1, maxvalue=2)>');
    b.release();
    assert.throws(() => b.release(), /released too many times/);
    assert.ok(b instanceof ctx.Semaphore);
  });

  test('stress: 3 workers share a Semaphore(2); never more than 2 inside, every round counted', async () => {
    const s = new ctx.BoundedSemaphore(2);
    const stats = ctx.Array('i', 3);
    const n = caps.syncCalls ? 500 : 40;
    const ps = [0, 1, 2].map(
      () => new ctx.Process({ target: w.semaphoreRounds, args: [s, stats, n] }),
    );
    for (const p of ps) p.start();
    for (const p of ps) await withDeadline(p.join(), 90_000);
    assert.deepEqual(
      ps.map((p) => p.exitCode),
      [0, 0, 0],
    );
    assert.equal(stats[0], 0);
    assert.ok(stats[1]! >= 1 && stats[1]! <= 2, `max inside was ${stats[1]}`);
    assert.equal(stats[2], 3 * n);
    assert.equal(s.getValue(), 2);
  });
});

forEachContext('Condition', (ctx, _name, caps) => {
  test('wait and notify without the lock throw ERR_LOCK_NOT_HELD', async () => {
    const c = new ctx.Condition();
    await assert.rejects(c.wait(10), isState('ERR_LOCK_NOT_HELD'));
    await assert.rejects(c.wait(10), /must acquire\(\) condition before using wait\(\)/);
    assert.throws(() => c.waitSync(10), isState('ERR_LOCK_NOT_HELD'));
    assert.throws(() => c.notify(), /lock is not owned/);
    assert.throws(() => c.notifyAll(), isState('ERR_LOCK_NOT_HELD'));
    assert.throws(() => new ctx.Condition({} as never), TypeError);
  });

  test('wait returns false on timeout and holds the lock again', async () => {
    const c = new ctx.Condition(new ctx.Lock());
    await c.acquire();
    assert.equal(await c.wait(20), false);
    assert.equal(c.waitSync(20), false);
    c.notify(); // still held: no error
    c.release();
  });

  test('notify(n) wakes exactly n of the waiters; notifyAll the rest', async () => {
    const c = new ctx.Condition();
    let waiting = 0;
    const results: boolean[] = [];
    const waiters = [0, 1, 2, 3].map(async () => {
      await c.acquire();
      waiting += 1;
      const r = await c.wait(10_000);
      results.push(r);
      c.release();
    });
    while (waiting < 4) await new Promise((r) => setImmediate(r));
    await c.acquire();
    c.notify(2);
    c.release();
    while (results.length < 2) await new Promise((r) => setImmediate(r));
    // A new waiter cannot steal the wake-ups given to the earlier ones.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(results.length, 2);
    await c.acquire();
    c.notifyAll();
    c.release();
    await withDeadline(Promise.all(waiters));
    assert.deepEqual(results, [true, true, true, true]);
  });

  test('waitFor returns the predicate’s last value (truthy, or the falsy one after a timeout)', async () => {
    const c = new ctx.Condition();
    await c.acquire();
    assert.equal(await c.waitFor(() => 0, 30), 0);
    assert.equal(
      c.waitForSync(() => '', 20),
      '',
    );
    assert.equal(await c.waitFor(() => 'ready'), 'ready');
    const box = ctx.Array('i', 1, { lock: false });
    const p = new ctx.Process({ target: w.bumpAndNotify, args: [c, box, 2] });
    p.start();
    const later = c.waitFor(() => (box[0]! >= 2 ? `n=${box[0]}` : null), 30_000);
    const done = later.finally(() => c.release());
    assert.equal(await withDeadline(done), 'n=2');
    await withDeadline(p.join());
  });

  test('producer/consumer across 2 workers: every item consumed exactly once', async () => {
    const c = new ctx.Condition();
    const box = ctx.Array('i', 2, { lock: false });
    const n = caps.syncCalls ? 300 : 30;
    const ps = [
      new ctx.Process({ target: w.consume, args: [c, box, n] }),
      new ctx.Process({ target: w.consumeAsync, args: [c, box, n] }),
    ];
    for (const p of ps) p.start();
    for (let i = 0; i < 2 * n; i++) {
      await c.acquire();
      box[0] = box[0]! + 1;
      c.notify();
      c.release();
    }
    for (const p of ps) await withDeadline(p.join(), 90_000);
    assert.deepEqual(
      ps.map((p) => p.exitCode),
      [0, 0],
    );
    assert.equal(box[1], 2 * n);
    assert.equal(box[0], 0);
  });
});

forEachContext('Event', (ctx) => {
  test('set, clear, isSet, wait with and without timeout', async () => {
    const e = new ctx.Event();
    assert.equal(e.isSet(), false);
    assert.equal(String(e), '<Event unset>');
    assert.equal(await e.wait(20), false);
    assert.equal(e.waitSync(0), false);
    const later = e.wait();
    e.set();
    assert.equal(await withDeadline(later), true);
    assert.equal(e.waitSync(), true);
    assert.equal(String(e), '<Event set>');
    e.clear();
    assert.equal(e.isSet(), false);
    await assert.rejects(e.wait('x' as never), TypeError);
  });

  test('workers wait for an event and answer with another (sync and async forms)', async () => {
    for (const sync of [true, false]) {
      const go = new ctx.Event();
      const done = new ctx.Event();
      const p = new ctx.Process({ target: w.relayEvent, args: [go, done, sync] });
      p.start();
      go.set();
      assert.equal(await withDeadline(done.wait(30_000)), true);
      await withDeadline(p.join());
      assert.equal(p.exitCode, 0);
    }
  });
});

forEachContext('Barrier', (ctx) => {
  test('indices are 0..parties-1; the action runs once per round, before anyone leaves', async () => {
    let runs = 0;
    const b = new ctx.Barrier(3, { action: () => void (runs += 1) });
    assert.equal(b.parties, 3);
    for (let round = 1; round <= 2; round++) {
      const indices = await withDeadline(Promise.all([b.wait(), b.wait(), b.wait()]));
      assert.deepEqual([...indices].sort(), [0, 1, 2]);
      assert.equal(runs, round);
    }
    assert.equal(b.nWaiting, 0);
    assert.equal(b.broken, false);
    const one = new ctx.Barrier(1);
    assert.equal(await one.wait(), 0);
    assert.equal(one.waitSync(), 0);
  });

  test('bad arguments', () => {
    assert.throws(() => new ctx.Barrier(0), RangeError);
    assert.throws(() => new ctx.Barrier(2, { action: 5 as never }), TypeError);
    assert.throws(() => new ctx.Barrier(2, { timeout: 'x' as never }), TypeError);
  });

  test('a timeout breaks the barrier for every waiter; reset() makes it usable', async () => {
    const b = new ctx.Barrier(3);
    const first = assert.rejects(b.wait(), mp.BrokenBarrierError);
    await assert.rejects(b.wait(30), mp.BrokenBarrierError);
    await first;
    assert.equal(b.broken, true);
    await assert.rejects(b.wait(), mp.BrokenBarrierError, 'stays broken');
    b.reset();
    assert.equal(b.broken, false);
    const two = new ctx.Barrier(2, { timeout: 20 });
    await assert.rejects(two.wait(), mp.BrokenBarrierError, 'the default timeout applies');
  });

  test('abort() breaks current waiters; reset() while waiting breaks them too', async () => {
    const b = new ctx.Barrier(2);
    const waiting = b.wait();
    while (b.nWaiting < 1) await new Promise((r) => setImmediate(r));
    b.abort();
    await assert.rejects(waiting, mp.BrokenBarrierError);
    b.reset();
    const again = b.wait();
    while (b.nWaiting < 1) await new Promise((r) => setImmediate(r));
    b.reset();
    await assert.rejects(again, mp.BrokenBarrierError);
    assert.equal(b.broken, false);
    assert.deepEqual(
      await withDeadline(Promise.all([b.wait(), b.wait()])).then((x) => x.sort()),
      [0, 1],
    );
  });

  test('a throwing action: every waiter gets BrokenBarrierError whose cause is the action’s error', async () => {
    const boom = new Error('boom');
    const b = new ctx.Barrier(3, {
      action: () => {
        throw boom;
      },
    });
    const outcomes = await Promise.allSettled([b.wait(), b.wait(), b.wait()]);
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected');
      const e = (o as PromiseRejectedResult).reason as Error;
      assert.ok(e instanceof mp.BrokenBarrierError);
      assert.equal((e.cause as Error).message, 'boom');
    }
    assert.ok(
      outcomes.some((o) => (o as PromiseRejectedResult).reason.cause === boom),
      'the runner gets the original',
    );
    assert.equal(b.broken, true);
  });

  test('parties in workers and here: 3 rounds, each index once per round', async () => {
    for (const sync of [false, true]) {
      const b = new ctx.Barrier(3);
      const seen = ctx.Array('i', 9, { lock: false });
      const ps = [0, 1].map(
        () => new ctx.Process({ target: w.barrierParty, args: [b, seen, 3, sync] }),
      );
      for (const p of ps) p.start();
      for (let r = 0; r < 3; r++) {
        const index = await withDeadline(b.wait(30_000));
        seen[r * 3 + index] = seen[r * 3 + index]! + 1;
      }
      for (const p of ps) await withDeadline(p.join());
      assert.deepEqual(
        ps.map((p) => p.exitCode),
        [0, 0],
      );
      assert.deepEqual([...seen], [1, 1, 1, 1, 1, 1, 1, 1, 1]);
    }
  });

  test('a worker whose wait times out breaks the barrier for a waiter here', async () => {
    const b = new ctx.Barrier(3);
    const out = ctx.Array('i', 1, { lock: false });
    const here = b.wait();
    const p = new ctx.Process({ target: w.barrierOutcome, args: [b, out, 0, 50] });
    p.start();
    await assert.rejects(withDeadline(here), mp.BrokenBarrierError);
    await withDeadline(p.join());
    assert.equal(out[0], 2);
  });
});
