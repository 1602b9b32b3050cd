// Queue, JoinableQueue and SimpleQueue in both contexts: Python's semantics (A.3), closing, travel and stress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import * as w from './fixtures/queue-workers.ts';

checkNoLeaks();

async function joined(p: mp.Process<any>): Promise<number | null> {
  await withDeadline(p.join(), 30_000, `${p.name} to exit`);
  return p.exitCode;
}

function closedCode(e: unknown): boolean {
  return e instanceof mp.InvalidStateError && e.code === 'ERR_CLOSED';
}

forEachContext('Queue', (ctx) => {
  test('the seed program: five processes put n * n, the parent gets all five', async () => {
    const q = new ctx.Queue<number>();
    const ps = [1, 2, 3, 4, 5].map((n) => new ctx.Process({ target: w.putSquare, args: [q, n] }));
    for (const p of ps) p.start();
    for (const p of ps) assert.equal(await joined(p), 0);
    const got: number[] = [];
    for (let i = 0; i < 5; i++) got.push(await withDeadline(q.get()));
    assert.deepEqual(
      got.sort((a, b) => a - b),
      [1, 4, 9, 16, 25],
    );
  });

  test('put/get of every kind of item, in order; qsize, empty, full', async () => {
    const q = new ctx.Queue<unknown>(0);
    const items = [
      0,
      -1.5,
      NaN,
      'ascii',
      'ünïcödé ✓',
      'x'.repeat(10_000),
      '',
      true,
      false,
      null,
      undefined,
      { a: [1, { b: 2n }] },
      new Map([[1, new Set([2])]]),
      new Uint8Array([1, 2, 3]),
      new Date(0),
    ];
    assert.equal(q.empty(), true);
    for (const item of items) await q.put(item);
    assert.equal(q.qsize(), items.length);
    assert.equal(q.empty(), false);
    assert.equal(q.full(), false, 'an unbounded queue is never full');
    for (const item of items) assert.deepEqual(await q.get(), item);
    assert.equal(q.qsize(), 0);
  });

  test('maxsize: Full from putNowait, put({block:false}) and put({timeout}); Empty likewise', async () => {
    const q = new ctx.Queue<number>(2);
    q.putNowait(1);
    q.putSync(2);
    assert.equal(q.full(), true);
    assert.throws(() => q.putNowait(3), mp.Full);
    await assert.rejects(q.put(3, { block: false, timeout: 1000 }), mp.Full);
    await assert.rejects(
      q.put(3, { timeout: 10 }),
      (e: unknown) => e instanceof mp.Full && (e as mp.Full).code === 'ERR_QUEUE_FULL',
    );
    assert.throws(() => q.putSync(3, { timeout: 5 }), mp.Full);
    assert.equal(q.getNowait(), 1);
    assert.equal(q.getSync({ timeout: 100 }), 2);
    assert.throws(
      () => q.getNowait(),
      (e: unknown) => e instanceof mp.Empty && (e as mp.Empty).code === 'ERR_QUEUE_EMPTY',
    );
    await assert.rejects(q.get({ block: false }), mp.Empty);
    await assert.rejects(q.get({ timeout: 10 }), mp.Empty);
    await assert.rejects(q.get({ timeout: -1 }), mp.Empty);
    assert.throws(() => q.getSync({ timeout: 5 }), mp.Empty);
  });

  test('a bounded queue applies backpressure to a producer in a worker', async () => {
    const q = new ctx.Queue<[number, number]>(3);
    const p = new ctx.Process({ target: w.produce, args: [q, 7, 500] });
    p.start();
    for (let i = 0; i < 500; i++) {
      assert.ok(q.qsize() <= 3);
      assert.deepEqual(await withDeadline(q.get()), [7, i]);
    }
    assert.equal(await joined(p), 0);
  });

  test('an unbounded queue grows as needed: 20,000 items of 1 KB put with nobody reading', async () => {
    const q = new ctx.Queue<string>();
    const kb = 'k'.repeat(1000);
    for (let i = 0; i < 20_000; i++) q.putNowait(`${i}:${kb}`);
    assert.equal(q.qsize(), 20_000);
    for (let i = 0; i < 20_000; i++) assert.equal(q.getNowait(), `${i}:${kb}`);
  });

  test('close(): puts fail everywhere, gets drain then fail, for await ends', async () => {
    const q = new ctx.Queue<number>();
    await q.put(1);
    await q.put(2);
    q.close();
    q.close();
    await assert.rejects(q.put(3), closedCode);
    assert.throws(() => q.putNowait(3), closedCode);
    assert.throws(() => q.putSync(3), closedCode);
    assert.equal(await q.get(), 1);
    const rest: number[] = [];
    for await (const n of q) rest.push(n);
    assert.deepEqual(rest, [2]);
    await assert.rejects(q.get(), closedCode);
    assert.throws(() => q.getNowait(), closedCode);
    assert.throws(() => q.getSync(), closedCode);
  });

  test('close() wakes consumers blocked in workers (sync and for await)', async () => {
    const q = new ctx.Queue<[number, number]>();
    const out = new ctx.Queue<[number, number][]>();
    const a = new ctx.Process({ target: w.consumeSync, args: [q, out] });
    const b = new ctx.Process({ target: w.consumeAsync, args: [q, out] });
    a.start();
    b.start();
    await q.put([0, 0]);
    q.close();
    const lists = [await withDeadline(out.get()), await withDeadline(out.get())];
    assert.deepEqual(lists.flat(), [[0, 0]]);
    assert.equal(await joined(a), 0);
    assert.equal(await joined(b), 0);
  });

  test('joinThread() needs a closed queue; cancelJoinThread() is a no-op', async () => {
    const q = new ctx.Queue();
    await assert.rejects(
      q.joinThread(),
      (e: unknown) => e instanceof mp.InvalidStateError && e.code === 'ERR_NOT_CLOSED',
    );
    q.cancelJoinThread();
    q.close();
    await q.joinThread();
  });

  test('bad arguments: TypeError naming the argument; uncloneable items: DataCloneError', async () => {
    assert.throws(() => new ctx.Queue('3' as never), /Expected `maxsize` to be an integer/);
    assert.throws(() => new ctx.Queue(1.5), TypeError);
    const q = new ctx.Queue<unknown>();
    await assert.rejects(q.put(1, { timeout: 'x' as never }), /Expected `options.timeout`/);
    await assert.rejects(q.get({ block: 1 as never }), /Expected `options.block` to be a boolean/);
    assert.throws(() => q.getSync(5 as never), /Expected `options` to be an options object/);
    await assert.rejects(
      q.put(() => 1),
      mp.DataCloneError,
    );
    assert.throws(() => q.putNowait({ f: () => 1 }), mp.DataCloneError);
    assert.equal(q.qsize(), 0, 'a failed put stores nothing');
  });

  test('many producers and many consumers lose and duplicate nothing; one producer stays in order', async () => {
    const q = new ctx.Queue<[number, number]>(64);
    const out = new ctx.Queue<[number, number][]>();
    const kPerProducer = 2000;
    const producers = [
      new ctx.Process({ target: w.produce, args: [q, 1, kPerProducer] }),
      new ctx.Process({ target: w.produceAsync, args: [q, 2, kPerProducer] }),
    ];
    const consumers = [
      new ctx.Process({ target: w.consumeSync, args: [q, out] }),
      new ctx.Process({ target: w.consumeAsync, args: [q, out] }),
    ];
    for (const p of [...consumers, ...producers]) p.start();
    // The parent is a producer and a consumer too.
    const mine: [number, number][] = [];
    for (let i = 0; i < kPerProducer; i++) {
      await q.put([3, i]);
      if (i % 4 === 0) {
        const got = await q.get({ block: false }).catch(() => null);
        if (got) mine.push(got);
      }
    }
    for (const p of producers) assert.equal(await joined(p), 0);
    q.close();
    const lists = [mine, await withDeadline(out.get()), await withDeadline(out.get())];
    for (const p of consumers) assert.equal(await joined(p), 0);
    const seen = new Map<number, number[]>([
      [1, []],
      [2, []],
      [3, []],
    ]);
    for (const list of lists) {
      const last = new Map<number, number>();
      for (const [id, i] of list) {
        assert.ok((last.get(id) ?? -1) < i, `producer ${id}'s items arrive in order`);
        last.set(id, i);
        seen.get(id)!.push(i);
      }
    }
    for (const [id, xs] of seen) {
      assert.equal(xs.length, kPerProducer, `producer ${id}: nothing lost or duplicated`);
      assert.deepEqual(
        xs.sort((a, b) => a - b),
        Array.from({ length: kPerProducer }, (_, i) => i),
      );
    }
  });

  test('a consumer killed while blocked leaves the queue usable for the others', async () => {
    const q = new ctx.Queue<unknown>();
    const started = new ctx.Queue<string>();
    const victim = new ctx.Process({ target: w.blockOnGet, args: [q, started] });
    victim.start();
    assert.equal(await withDeadline(started.get()), 'blocking');
    victim.kill();
    await joined(victim);
    assert.equal(victim.exitCode, -9);
    const out = new ctx.Queue<[number, number][]>();
    const consumer = new ctx.Process({
      target: w.consumeSync,
      args: [q as mp.Queue<[number, number]>, out],
    });
    consumer.start();
    for (let i = 0; i < 100; i++) await q.put([0, i]);
    q.close();
    const got = await withDeadline(out.get());
    assert.equal(got.length, 100);
    assert.equal(await joined(consumer), 0);
  });

  test('queues travel anywhere inside Process arguments', async () => {
    const q = new ctx.Queue<string>();
    const p = new ctx.Process({ target: w.putNested, args: [{ deep: { queues: [q] } }, 'deep'] });
    p.start();
    assert.equal(await withDeadline(q.get()), 'deep');
    assert.equal(await joined(p), 0);
  });
});

forEachContext('JoinableQueue', (ctx) => {
  test('taskDone() too often throws ERR_RELEASED_TOO_MANY_TIMES; join() waits for every task', async () => {
    const q = new ctx.JoinableQueue<number>();
    assert.throws(
      () => q.taskDone(),
      (e: unknown) => e instanceof mp.InvalidStateError && e.code === 'ERR_RELEASED_TOO_MANY_TIMES',
    );
    await q.join();
    const out = new ctx.Queue<number>();
    const worker = new ctx.Process({ target: w.joinableWorker, args: [q, out] });
    worker.start();
    for (let i = 1; i <= 20; i++) await q.put(i);
    await withDeadline(q.join(), 30_000, 'join()');
    assert.equal(out.qsize(), 20, 'join() resolves only after every item was processed');
    let sum = 0;
    for (let i = 0; i < 20; i++) sum += out.getNowait();
    assert.equal(sum, 420);
    q.close();
    assert.equal(await joined(worker), 0);
  });

  test('a JoinableQueue inherits Queue: maxsize, Full, Empty, close', async () => {
    const q = new ctx.JoinableQueue<string>(1);
    assert.ok(q instanceof mp.Queue);
    q.putNowait('a');
    assert.throws(() => q.putNowait('b'), mp.Full);
    assert.equal(q.getNowait(), 'a');
    q.taskDone();
    assert.throws(() => q.getNowait(), mp.Empty);
    q.joinSync();
  });
});

forEachContext('SimpleQueue', (ctx) => {
  test('put/get/empty/close, across a worker', async () => {
    const q = new ctx.SimpleQueue<number>();
    assert.equal(q.empty(), true);
    const p = new ctx.Process({ target: w.putSquare, args: [q as never, 9] });
    p.start();
    assert.equal(await withDeadline(q.get()), 81);
    assert.equal(await joined(p), 0);
    await q.put(1);
    assert.equal(q.empty(), false);
    q.close();
    assert.equal(await q.get(), 1);
    await assert.rejects(q.get(), closedCode);
    await assert.rejects(q.put(2), closedCode);
  });

  test('puts buffered by a producer reach the parent before it blocks or exits', async () => {
    const q = new ctx.Queue<number>();
    const done = new ctx.Event();
    const p = new ctx.Process({ target: w.putThenWait, args: [q, done, 5000] });
    p.start();
    for (let i = 0; i < 5000; i++) assert.equal(await withDeadline(q.get()), i);
    done.set();
    await withDeadline(p.join());
    const r = new ctx.Process({ target: w.putThenExit, args: [q, 300] });
    r.start();
    await withDeadline(r.join());
    const got: number[] = [];
    for (let i = 0; i < 300; i++) got.push(await withDeadline(q.get()));
    assert.deepEqual(
      got,
      Array.from({ length: 300 }, (_, i) => i),
    );
  });
});
