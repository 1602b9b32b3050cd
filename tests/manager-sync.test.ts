// Manager synchronization proxies and queues in both contexts: Lock…Barrier, Queue, JoinableQueue, with workers and error paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import * as w from './fixtures/manager-workers.ts';

checkNoLeaks();

async function runAll(ctx: mp.Context, jobs: mp.ProcessOptions<any>[]): Promise<mp.Process[]> {
  const procs = jobs.map((options) => new ctx.Process(options));
  for (const p of procs) p.start();
  for (const p of procs) await withDeadline(p.join(), 60_000, `${p.name} to exit`);
  return procs;
}

const isState = (code: string) => (e: any) => e instanceof mp.InvalidStateError && e.code === code;

forEachContext('Manager sync', (ctx) => {
  test('Lock: acquire with block/timeout, release; releasing an unlocked lock rejects ERR_LOCK_NOT_HELD', async () => {
    await using manager = await ctx.Manager();
    const lock = await manager.Lock();
    assert.ok(lock instanceof mp.LockProxy);
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.acquire({ block: false }), false);
    assert.equal(await lock.acquire({ timeout: 10 }), false);
    assert.equal(await lock.acquire({ timeout: 0 }), false, '0 does not wait');
    const waiter = lock.acquire();
    await lock.release(); // handed to the waiter
    assert.equal(await waiter, true);
    await lock.release();
    await assert.rejects(lock.release(), isState('ERR_LOCK_NOT_HELD'));
    await assert.rejects(lock.acquire({ timeout: 'soon' } as any), TypeError);
    assert.equal(await lock.withLock(() => 'inside'), 'inside');
    assert.equal(await lock.acquire({ block: false }), true, 'withLock released it');
  });

  test('RLock: the owner re-enters; another process cannot release it (ERR_NOT_OWNER)', async () => {
    await using manager = await ctx.Manager();
    const r = await manager.RLock();
    assert.equal(await r.acquire(), true);
    assert.equal(await r.acquire(), true);
    const [p] = await runAll(ctx, [{ target: w.releaseForeignRLock, args: [r] }]);
    assert.equal(p!.exitCode, 0);
    await r.release();
    await r.release();
    await assert.rejects(r.release(), isState('ERR_LOCK_NOT_HELD'));
  });

  test('Semaphore and BoundedSemaphore', async () => {
    await using manager = await ctx.Manager();
    const s = await manager.Semaphore(2);
    assert.equal(await s.acquire(), true);
    assert.equal(await s.acquire(), true);
    assert.equal(await s.acquire({ block: false }), false);
    assert.equal(await s.getValue(), 0);
    await s.release();
    await s.release();
    await s.release(); // unbounded
    assert.equal(await s.getValue(), 3);
    const b = await manager.BoundedSemaphore(1);
    await assert.rejects(b.release(), isState('ERR_RELEASED_TOO_MANY_TIMES'));
    await b.acquire();
    await b.release();
    await assert.rejects(manager.Semaphore(-1), RangeError);
  });

  test('Event: set, clear, wait with timeout, woken across workers', async () => {
    await using manager = await ctx.Manager();
    const e = await manager.Event();
    assert.equal(await e.isSet(), false);
    assert.equal(await e.wait(10), false);
    assert.equal(await e.wait(0), false);
    const waiting = e.wait();
    await e.set();
    assert.equal(await waiting, true);
    await e.clear();
    assert.equal(await e.isSet(), false);
    // A worker sets an event the parent waits on (callUntilClosed sets `ready` first).
    const d = await manager.dict<string, number>();
    const worker = new ctx.Process({ target: w.callUntilClosed, args: [d, e] });
    worker.start();
    assert.equal(await withDeadline(e.wait(), 30_000), true);
    await manager.shutdown();
    await withDeadline(worker.join(), 30_000);
    assert.equal(worker.exitCode, 0);
  });

  test('Condition: wait/notify, waitFor with a predicate, errors without the lock', async () => {
    await using manager = await ctx.Manager();
    const c = await manager.Condition();
    await assert.rejects(c.wait(10), isState('ERR_LOCK_NOT_HELD'));
    await assert.rejects(c.notify(), isState('ERR_LOCK_NOT_HELD'));
    await c.acquire();
    assert.equal(await c.wait(10), false, 'timed out, lock retaken');
    await c.notify(); // we still hold it
    await c.release();
    // A condition over a manager Lock; a waiter is woken by notifyAll from the same thread.
    const lock = await manager.Lock();
    const c2 = await manager.Condition(lock);
    const flag = await manager.Value('b', 0);
    await c2.acquire();
    const waited = c2.waitFor(async () => (await flag.get()) === 1, 30_000);
    // The waiter released the lock: take it, change the state, notify.
    await c2.acquire();
    await flag.set(1);
    await c2.notifyAll();
    await c2.release();
    assert.equal(await waited, true);
    await c2.release();
    assert.equal(await c2.waitFor(() => false, 0).then(async (r) => r), false);
    await assert.rejects(manager.Condition({} as any), TypeError);
  });

  test('Barrier: parties get distinct indices; timeout and abort break it', async () => {
    await using manager = await ctx.Manager();
    const b = await manager.Barrier(3);
    assert.equal(await b.parties(), 3);
    const seen = await manager.list<number>();
    const procs = runAll(
      ctx,
      [0, 1].map(() => ({ target: w.barrierParty, args: [b, seen] })),
    );
    const mine = await withDeadline(b.wait(), 60_000, 'the barrier');
    assert.deepEqual(
      (await procs).map((p) => p.exitCode),
      [0, 0],
    );
    assert.deepEqual([...(await seen.toArray()), mine].sort(), [0, 1, 2]);
    const lonely = await manager.Barrier(2);
    await assert.rejects(lonely.wait(10), mp.BrokenBarrierError);
    assert.equal(await lonely.broken(), true);
    await lonely.reset();
    assert.equal(await lonely.broken(), false);
    const waiting = assert.rejects(lonely.wait(), mp.BrokenBarrierError);
    await lonely.abort();
    await waiting;
    assert.equal(await lonely.nWaiting(), 0);
  });

  test('Barrier action runs in the server; a throwing action breaks the barrier', async () => {
    await using manager = await ctx.Manager();
    const ok = await manager.Barrier(1, { action: () => 1 });
    assert.equal(await ok.wait(), 0);
    const failing = await manager.Barrier(1, {
      action: () => {
        throw new RangeError('action failed');
      },
    });
    // The remote stack is the error's cause; the action's error is that traceback's own cause.
    await assert.rejects(
      failing.wait(),
      (e: any) =>
        e instanceof mp.BrokenBarrierError &&
        e.cause instanceof mp.RemoteTraceback &&
        e.cause.cause instanceof RangeError,
    );
  });

  test('Queue: FIFO, Empty and Full, nowait forms, sizes', async () => {
    await using manager = await ctx.Manager();
    const q = await manager.Queue<number>(2);
    assert.ok(q instanceof mp.QueueProxy);
    await q.put(1);
    await q.putNowait(2);
    assert.equal(await q.full(), true);
    assert.equal(await q.qsize(), 2);
    await assert.rejects(q.put(3, { timeout: 10 }), mp.Full);
    await assert.rejects(q.putNowait(3), mp.Full);
    assert.equal(await q.get(), 1);
    assert.equal(await q.getNowait(), 2);
    assert.equal(await q.empty(), true);
    await assert.rejects(q.get({ block: false }), mp.Empty);
    await assert.rejects(q.get({ timeout: 10 }), mp.Empty);
    const later = q.get();
    await q.put(9);
    assert.equal(await later, 9);
    await assert.rejects(
      (q as any).callMethod('taskDone'),
      mp.RemoteError,
      'a plain Queue does not expose taskDone',
    );
    // maxsize ≤ 0 is unbounded, as in Python's queue.Queue; a non-integer is refused.
    const unbounded = await manager.Queue<number>(-1);
    for (let i = 0; i < 3; i++) await unbounded.putNowait(i);
    assert.equal(await unbounded.full(), false);
    await assert.rejects(manager.Queue(1.5), TypeError);
  });

  test('JoinableQueue: consumers in workers, join() waits for every taskDone()', async () => {
    await using manager = await ctx.Manager();
    const q = await manager.JoinableQueue<number | null>();
    const total = await manager.Value('i', 0);
    const lock = await manager.Lock();
    const procs = [0, 1].map(() => new ctx.Process({ target: w.consume, args: [q, total, lock] }));
    for (const p of procs) p.start();
    for (let i = 1; i <= 50; i++) await q.put(i);
    await withDeadline(q.join(), 60_000, 'join()');
    assert.equal(await total.get(), 1275);
    await q.put(null);
    await q.put(null);
    for (const p of procs) await withDeadline(p.join(), 30_000);
    assert.deepEqual(
      procs.map((p) => p.exitCode),
      [0, 0],
    );
    await assert.rejects(q.taskDone(), isState('ERR_RELEASED_TOO_MANY_TIMES'));
  });
});
