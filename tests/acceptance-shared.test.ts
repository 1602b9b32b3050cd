// Acceptance: shared values and synchronization primitives used as README and Python's docs suggest, in both contexts; each test pins a defect found by running user programs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { checkNoLeaks, forEachContext, waitUntil, withDeadline } from './helpers/contexts.ts';

checkNoLeaks();

// Task bodies use globals only, so they travel as source to both kinds of worker.

/** What a worker sees of a shared Array used as a typed array. */
function probeArray(arr: mp.SynchronizedArray<'i'>, big: mp.SharedArray<'q'>): unknown {
  const attempt = (fn: () => unknown): unknown => {
    try {
      return fn();
    } catch (error) {
      return (error as Error).name;
    }
  };
  arr[-1] = 9; // out of range, as on a typed array: ignored
  arr[7] = 9;
  arr[0] = 4.5; // converted as a typed array converts: 4
  const seen = {
    sum: arr.reduce((a, b) => a + b, 0),
    doubled: Array.from(arr.map((x) => x * 2)),
    indexOf: arr.indexOf(2),
    includes: arr.includes(9),
    text: String(arr),
    json: JSON.stringify(arr),
    keys: Object.keys(arr),
    negative: [arr[-1], arr.at(-1), (-1) in arr],
    sortReturnsArray: arr.sort() === arr,
    numberIntoBigint: attempt(() => {
      big[0] = 1 as never;
    }),
  };
  big[0] = 5n;
  return seen;
}

/** What a worker sees of SharedMemory.buf used as a Uint8Array. */
function probeBytes(shm: mp.SharedMemory): unknown {
  const buf = shm.buf!;
  buf[0] = 7;
  buf[1] = 256 + 8;
  buf.fill(1, 2);
  return {
    indexOf: buf.indexOf(8),
    joined: buf.join(','),
    negative: buf[-1],
    copy: Array.from(buf.slice(1, 3)),
    keys: Object.keys(buf).length,
    view: buf.subarray(1, 3), // sent back as a result
  };
}

forEachContext('acceptance: shared arrays in workers', (ctx) => {
  test('an Array in a pool task has the typed array methods and rules it has in the main process', async () => {
    await using pool = new ctx.Pool(1);
    const arr = ctx.Array('i', [3, 1, 2]);
    const big = ctx.Array('q', 2, { lock: false });
    const seen = await withDeadline(pool.apply(probeArray, [arr, big]));
    assert.deepEqual(seen, {
      sum: 7,
      doubled: [8, 2, 4],
      indexOf: 2,
      includes: false,
      text: '4,1,2',
      json: '{"0":4,"1":1,"2":2}',
      keys: ['0', '1', '2'],
      negative: [undefined, 2, false],
      sortReturnsArray: true,
      numberIntoBigint: 'TypeError',
    });
    assert.deepEqual([...arr], [1, 2, 4], 'sort() in the worker sorted the shared elements');
    assert.deepEqual([...big], [5n, 0n]);
  });

  test('SharedMemory.buf in a pool task behaves like a Uint8Array', async () => {
    await using pool = new ctx.Pool(1);
    const shm = new ctx.SharedMemory({ create: true, size: 4 });
    try {
      const { view, ...seen } = (await withDeadline(pool.apply(probeBytes, [shm]))) as {
        view: Uint8Array;
      };
      assert.ok(view instanceof Uint8Array, 'a view of the bytes travels as a Uint8Array');
      assert.deepEqual([...view], [8, 1]);
      assert.deepEqual(seen, {
        indexOf: 1,
        joined: '7,8,1,1',
        negative: undefined,
        copy: [8, 1],
        keys: 4,
      });
      assert.deepEqual([...shm.buf!], [7, 8, 1, 1]);
    } finally {
      shm.unlink();
    }
  });
});

forEachContext('acceptance: synchronization primitives', (ctx, _name) => {
  test('a child killed inside Condition.wait() does not leave the lock held', async () => {
    const targets = [
      async (cond: mp.Condition, started: mp.Event) => {
        await cond.acquire();
        started.set();
        await cond.wait();
      },
      (cond: mp.Condition, started: mp.Event) => {
        cond.acquireSync();
        started.set();
        cond.waitSync();
      },
    ];
    for (const target of targets) {
      const cond = new ctx.Condition();
      const started = new ctx.Event();
      const p = new ctx.Process({ target, args: [cond, started] });
      p.start();
      assert.equal(await withDeadline(started.wait()), true);
      // The child waits once the lock is free again.
      assert.equal(await cond.acquire({ timeout: 20_000 }), true);
      assert.equal(String(cond), '<Condition(<RLock(MainProcess, 1)>, 1)>');
      cond.release();
      p.kill();
      await withDeadline(p.join());
      if (ctx.sharedMemory === 'broker') {
        // The broker waited for the child: it leaves the waiters once it sees the child gone.
        await waitUntil(() => String(cond) === '<Condition(<RLock(None, 0)>, 0)>', 20_000);
      }
      await cond.acquire();
      cond.notifyAll();
      cond.release();
      assert.equal(await cond.acquire({ timeout: 5_000 }), true, 'the lock is free');
      cond.release();
    }
  });

  test("Condition's repr counts its waiters, as Python's", () => {
    assert.equal(String(new ctx.Condition()), '<Condition(<RLock(None, 0)>, 0)>');
    assert.equal(String(new ctx.Condition(new ctx.Lock())), '<Condition(<Lock(owner=None)>, 0)>');
  });

  test('a Semaphore stops at 2³¹ − 1 instead of wrapping to a negative value', () => {
    assert.throws(
      () => new ctx.Semaphore(2 ** 31),
      (e: unknown) =>
        e instanceof RangeError && (e as { code?: string }).code === 'ERR_OUT_OF_RANGE',
    );
    const s = new ctx.Semaphore(2 ** 31 - 1);
    assert.throws(
      () => s.release(),
      (e: unknown) => e instanceof mp.InvalidStateError && e.code === 'ERR_RELEASED_TOO_MANY_TIMES',
    );
    assert.equal(s.getValue(), 2 ** 31 - 1);
    assert.equal(String(s), '<Semaphore(value=2147483647)>');
  });

  test('a misspelt option is refused rather than ignored (a timed wait must not wait forever)', async () => {
    const unknown = (e: unknown) =>
      e instanceof TypeError && (e as { code?: string }).code === 'ERR_INVALID_ARG_VALUE';
    const lock = new ctx.Lock();
    await lock.acquire();
    await assert.rejects(lock.acquire({ timout: 10 } as never), unknown);
    assert.throws(() => lock.acquireSync({ timout: 10 } as never), unknown);
    await assert.rejects(new ctx.Semaphore(0).acquire({ timout: 10 } as never), unknown);
    await assert.rejects(lock.acquire({ blocking: false } as never), /named `block`/);
    lock.release();
    assert.throws(() => ctx.Value('i', 0, { lok: false } as never), unknown);
    assert.throws(() => ctx.Array('i', 2, { lok: false } as never), unknown);
    assert.throws(() => new ctx.Barrier(2, { timout: 10 } as never), unknown);
    assert.throws(() => new ctx.SharedMemory({ create: true, sise: 8 } as never), unknown);
    assert.throws(() => new ctx.ShareableList([1], { nmae: 'x' } as never), unknown);
  });

  test('type errors of values, locks and names carry a code', () => {
    const badType = (e: unknown) =>
      e instanceof TypeError && (e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE';
    assert.throws(() => ctx.Value('i', 1.5), badType);
    assert.throws(() => ctx.Value('q', 0.5 as never), badType);
    assert.throws(() => ctx.RawValue('d', '1' as never), badType);
    assert.throws(() => ctx.Array('b', [1, 2.5]), badType);
    assert.throws(() => ctx.Value('i', 0, { lock: new ctx.Semaphore() as never }), badType);
    const v = ctx.Value('i');
    assert.throws(() => {
      v.value = 0.5;
    }, badType);
    assert.throws(() => new ctx.SharedMemory({}), badType);
    assert.throws(() => new ctx.SharedMemory({ name: '' }), badType);
  });
});
