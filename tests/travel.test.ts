// Library objects travel inside Pool task arguments in both contexts (queues, values, pipes, proxies, barriers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import * as w from './fixtures/travel-workers.ts';

checkNoLeaks();

forEachContext('travel into pool tasks', (ctx) => {
  test('a queue created after the pool started works in its tasks', async () => {
    await using pool = new ctx.Pool(2);
    await pool.map((x: number) => x, [1, 2]);
    const q = new ctx.Queue<number>();
    await withDeadline(
      pool.starmap(
        w.putSquare,
        [1, 2, 3, 4, 5].map((n) => [q, n] as [mp.Queue<number>, number]),
      ),
    );
    const got = await Promise.all([1, 2, 3, 4, 5].map(() => q.get({ timeout: 10_000 })));
    assert.deepEqual(
      got.sort((a, b) => a - b),
      [1, 4, 9, 16, 25],
    );
  });

  test('one Value in every item of a map chunk: increments stay exact', async () => {
    await using pool = new ctx.Pool(2);
    const counter = ctx.Value('i', 0);
    const items = Array.from({ length: 8 }, () => ({ counter, times: 50 }));
    const names = await withDeadline(pool.map(w.addUnderLock, items, 4), 60_000);
    assert.equal(names.length, 8);
    assert.equal(counter.value, 400);
  });

  test('a pipe end and an event travel to a task', async () => {
    await using pool = new ctx.Pool(1);
    const [r, s] = ctx.Pipe<string>(false);
    await withDeadline(pool.apply(w.sendOver, [s, 'through the pool']));
    s.close();
    assert.equal(await withDeadline(r.recv()), 'through the pool');
    const e = new ctx.Event();
    await withDeadline(pool.apply(w.setEvent, [e]));
    assert.equal(e.isSet(), true);
    r.close();
  });

  test('a barrier with an action meets across two tasks', async () => {
    await using pool = new ctx.Pool(2);
    const barrier = new ctx.Barrier(2, { action: () => undefined });
    const indices = await withDeadline(pool.map(w.meet, [barrier, barrier], 1), 60_000);
    assert.deepEqual([...indices].sort(), [0, 1]);
  });

  test('a manager dict proxy shared by every item of a map', async () => {
    await using manager = await ctx.Manager();
    await using pool = new ctx.Pool(2);
    const d = await manager.dict<string, number>();
    await withDeadline(
      pool.starmap(
        w.record,
        [0, 1, 2, 3, 4, 5].map((i) => [d, `k${i}`, i] as [typeof d, string, number]),
      ),
      60_000,
    );
    assert.equal(await d.size(), 6);
    assert.equal(await d.get('k5'), 5);
  });
});
