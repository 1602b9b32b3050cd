// Pool in both contexts: every method, inputs, options, names and state rules (Python A.2).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { defaultChunksize } from '../src/pool/chunking.ts';
import {
  capabilitiesOf,
  checkNoLeaks,
  forEachContext,
  kContexts,
  withDeadline,
} from './helpers/contexts.ts';
import { runScript } from './helpers/scripts.ts';
import * as f from './fixtures/pool-fns.ts';

checkNoLeaks();

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function closeAndJoin(pool: mp.Pool): Promise<void> {
  pool.close();
  await withDeadline(pool.join(), 30_000, 'pool.join()');
}

test("default chunksize is Python's ceil(n / (4 × workers))", () => {
  assert.deepEqual(
    [1, 11, 12, 13, 100].map((n) => defaultChunksize(n, 3)),
    [1, 1, 1, 2, 9],
  );
  assert.equal(defaultChunksize(0, 3), 0);
  assert.equal(defaultChunksize(100_000, 2), 12_500);
});

forEachContext('Pool', (ctx, method, caps) => {
  let pool: mp.Pool;
  before(() => {
    pool = new ctx.Pool(2);
  });
  after(() => closeAndJoin(pool));

  test('seed: Pool(4).map(square, range(10))', async () => {
    const p = new ctx.Pool(4);
    try {
      assert.deepEqual(await p.map(f.square, range(10)), [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    } finally {
      await closeAndJoin(p);
    }
  });

  test('seed: starmap(multiply, pairs)', async () => {
    const pairs: [number, number][] = [
      [1, 2],
      [3, 4],
      [5, 6],
    ];
    const out: number[] = await pool.starmap(f.multiply, pairs);
    assert.deepEqual(out, [2, 12, 30]);
  });

  test('seed: Pool(cpuCount() - 1) (at least 1)', async () => {
    const p = new ctx.Pool(Math.max(1, mp.cpuCount() - 1));
    try {
      assert.equal(p.processes, Math.max(1, mp.cpuCount() - 1));
      assert.deepEqual(await p.map(f.square, [2, 3]), [4, 9]);
    } finally {
      await closeAndJoin(p);
    }
  });

  test('apply: module functions, self-contained arrows, async functions, mp.ref()', async () => {
    const n: number = await pool.apply(f.multiply, [6, 7]);
    assert.equal(n, 42);
    assert.equal(await pool.apply((a: number, b: number) => a - b, [10, 4]), 6);
    const d: number = await pool.apply(f.asyncDouble, [21]);
    assert.equal(d, 42);
    const byRef = mp.ref<(x: number) => number>(
      new URL('./fixtures/pool-fns.ts', import.meta.url),
      'square',
    );
    const s: number = await pool.apply(byRef, [9]);
    assert.equal(s, 81);
  });

  test('map: arrays, Sets, generators and async iterables, in order', async () => {
    const xs = range(100);
    const squares = xs.map((x) => x * x);
    const viaArrow: number[] = await pool.map((x: number) => x * x, xs);
    assert.deepEqual(viaArrow, squares);
    assert.deepEqual(await pool.map(f.square, new Set(xs)), squares);
    function* gen() {
      yield* xs;
    }
    assert.deepEqual(await pool.map(f.square, gen()), squares);
    async function* agen() {
      for (const x of xs) yield x;
    }
    assert.deepEqual(
      await pool.map(f.asyncDouble, agen(), 7),
      xs.map((x) => 2 * x),
    );
    assert.deepEqual(await pool.map(f.square, []), []);
    // Values that are not numbers travel unpacked; -0 and NaN survive packing.
    assert.deepEqual(await pool.map((s: string) => s.toUpperCase(), ['a', 'b']), ['A', 'B']);
    const odd = await pool.map((x: number) => x, [...range(20).map(() => -0), NaN], 21);
    assert.ok(Object.is(odd[0], -0) && Number.isNaN(odd[20]));
    const mixed = await pool.map((x: number) => (x === 5 ? 'five' : x), range(32), 32);
    assert.equal(mixed[5], 'five');
    assert.equal(mixed[31], 31);
  });

  test('map: default chunking sends ceil(n / 8) items per task with 2 workers; onProgress counts items', async () => {
    const seen: [number, number][] = [];
    const out = await pool.map(f.square, range(100), {
      onProgress: (done, total) => seen.push([done, total]),
    });
    assert.equal(out.length, 100);
    assert.equal(seen.length, 8, 'chunks of 13 items');
    assert.deepEqual(seen.at(-1), [100, 100]);
    assert.ok(seen.every(([, total]) => total === 100));
  });

  test('starmap and starmapAsync over tuples, sync and async', async () => {
    async function* pairs() {
      yield [2, 3] as [number, number];
      yield [4, 5] as [number, number];
    }
    assert.deepEqual(await pool.starmap(f.multiply, pairs()), [6, 20]);
    const r = pool.starmapAsync(f.multiply, [[1, 1] as [number, number]]);
    assert.deepEqual(await r.get(), [1]);
  });

  test('applyAsync: AsyncResult get/wait/ready/successful and callbacks', async () => {
    let called: number | null = null;
    const r = pool.applyAsync(f.square, [5], { callback: (v) => (called = v) });
    const v: number = await r.get(20_000);
    assert.equal(v, 25);
    assert.equal(called, 25, 'callback runs before the result is ready');
    assert.equal(r.ready(), true);
    assert.equal(r.successful(), true);
    assert.equal(await r.wait(), undefined);
    assert.equal(await r, 25, 'an AsyncResult is awaitable');

    let failure: unknown = null;
    const bad = pool.applyAsync(f.failAt3, [3], { errorCallback: (e) => (failure = e) });
    await bad.wait();
    assert.equal(bad.successful(), false);
    assert.ok(failure instanceof RangeError);
    await assert.rejects(bad.get(), RangeError);

    const m = pool.mapAsync(f.square, [1, 2, 3], { callback: (xs) => (called = xs.length) });
    assert.deepEqual(await m, [1, 4, 9]);
    assert.equal(called, 3);
    const empty = pool.mapAsync(f.square, []);
    assert.deepEqual(await empty.get(), []);
  });

  test('AsyncResult.get(timeout) rejects with TimeoutError; successful() throws while pending', async () => {
    const p = new ctx.Pool(1);
    try {
      const r = p.applyAsync(f.spin);
      await assert.rejects(r.get(30), mp.TimeoutError);
      await assert.rejects(r.get(0), mp.TimeoutError);
      await r.wait(10);
      assert.equal(r.ready(), false);
      assert.throws(
        () => r.successful(),
        (e: any) => e instanceof mp.InvalidStateError && e.code === 'ERR_NOT_READY',
      );
    } finally {
      await p.terminate();
    }
  });

  test('errors come back with their class and a RemoteTraceback cause', async () => {
    const error: any = await pool.apply(f.failAt3, [3]).catch((e) => e);
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, 'bad item 3');
    assert.ok(error.cause instanceof mp.RemoteTraceback);
    assert.match(error.cause.tb, /failOn/);
    await assert.rejects(pool.map(f.failAt3, range(10)), RangeError);
  });

  test('imap is ordered and lazy; imapUnordered yields every result', async () => {
    const ordered: number[] = [];
    for await (const y of pool.imap(f.square, range(20))) ordered.push(y);
    assert.deepEqual(
      ordered,
      range(20).map((x) => x * x),
    );
    const unordered: number[] = [];
    for await (const y of pool.imapUnordered(f.asyncDouble, range(20), 3)) unordered.push(y);
    assert.deepEqual(
      unordered.sort((a, b) => a - b),
      range(20).map((x) => 2 * x),
    );
    async function* agen() {
      yield 1;
      yield 2;
    }
    const fromAsync: number[] = [];
    for await (const y of pool.imap(f.square, agen())) fromAsync.push(y);
    assert.deepEqual(fromAsync, [1, 4]);
  });

  test('imap over an infinite generator reads at most buffersize chunks ahead', async () => {
    const read = { count: 0 };
    const it = pool.imap(f.square, f.naturals(read), { chunksize: 2, buffersize: 3 });
    const got: number[] = [];
    for await (const y of it) {
      got.push(y);
      // Chunks submitted but not read yet ≤ buffersize: read ≤ (chunks read + 1 + buffersize) × chunksize.
      assert.ok(read.count <= (Math.floor(got.length / 2) + 1 + 3) * 2, `read ${read.count}`);
      if (got.length === 25) break;
    }
    assert.deepEqual(
      got,
      range(25).map((x) => x * x),
    );
    const before = read.count;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(read.count, before, 'nothing is read after break');
  });

  test('imap: onProgress total is undefined until the input is exhausted; errors end the iteration', async () => {
    const totals: (number | undefined)[] = [];
    const done: number[] = [];
    const it = pool.imap(f.square, range(4), {
      onProgress: (n, total) => (totals.push(total), done.push(n)),
    });
    for await (const _ of it);
    assert.deepEqual(totals, [4, 4, 4, 4], "an array's length is known at once");
    assert.deepEqual(done, [1, 2, 3, 4]);
    const openTotals: (number | undefined)[] = [];
    const gen = pool.imap(f.square, f.naturals(), {
      onProgress: (_n, total) => openTotals.push(total),
    });
    for await (const y of gen) if (y >= 9) break;
    assert.equal(openTotals[0], undefined, 'an open-ended input has no total');

    const it2 = pool.imap(f.failAt3, range(10));
    const got: number[] = [];
    await assert.rejects(async () => {
      for await (const y of it2) got.push(y);
    }, RangeError);
    assert.deepEqual(got, [0, 1, 2], 'results before the failing item arrive first');
    assert.deepEqual(await it2.next(), { done: true, value: undefined });
  });

  test('initializer runs once in every worker, replacements included', async () => {
    const p = new ctx.Pool({
      processes: 1,
      initializer: f.setInit,
      initargs: ['hello'],
      maxTasksPerChild: 1,
    });
    try {
      const a = await p.apply(f.getInit);
      const b = await p.apply(f.getInit);
      assert.deepEqual([a.value, a.runs, b.value, b.runs], ['hello', 1, 'hello', 1]);
      assert.notEqual(a.id, b.id, 'the second task ran in a replacement worker');
    } finally {
      await closeAndJoin(p);
    }
    const q = new ctx.Pool({ processes: 2, initializer: f.asyncInit, initargs: [{ k: 1 }] });
    try {
      const all = await q.map(f.getInit, range(8), 1);
      assert.ok(all.every((r) => r.runs === 1 && (r.value as { k: number }).k === 1));
    } finally {
      await closeAndJoin(q);
    }
  });

  test('maxTasksPerChild: a worker exits after N tasks and is replaced ([a,a,b,b,c])', async () => {
    const p = new ctx.Pool({ processes: 1, maxTasksPerChild: 2 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await p.apply(f.workerId));
      assert.equal(ids[0], ids[1]);
      assert.equal(ids[2], ids[3]);
      assert.notEqual(ids[1], ids[2]);
      assert.notEqual(ids[3], ids[4]);
      assert.equal(new Set(ids).size, 3);
    } finally {
      await closeAndJoin(p);
    }
  });

  test('workers are named PoolWorker-N, daemonic, and cannot start Processes', async () => {
    const me = await pool.apply(f.whoami);
    assert.match(me.name, /^PoolWorker-\d+$/);
    assert.equal(me.daemon, true);
    if (!caps.ownProcess) assert.equal(me.pid, process.pid);
    else assert.notEqual(me.pid, process.pid);
    await assert.rejects(
      pool.apply(f.startProcess),
      (e: any) => e instanceof mp.InvalidStateError && e.code === 'ERR_DAEMON_CHILDREN',
    );
  });

  test('the context option picks where workers run', async () => {
    // Every other registered context by name; this one as a Context.
    for (const other of kContexts.filter((m) => m !== method)) {
      const p = new mp.Pool({ processes: 1, context: other });
      try {
        const me = await p.apply(f.whoami);
        assert.equal(me.pid === process.pid, !capabilitiesOf(other).ownProcess);
      } finally {
        await closeAndJoin(p);
      }
    }
    const q = new mp.Pool({ processes: 1, context: mp.getContext(method) });
    try {
      assert.equal((await q.apply(f.whoami)).pid === process.pid, !caps.ownProcess);
    } finally {
      await closeAndJoin(q);
    }
  });

  test('transfer moves buffers in the thread context and copies across processes', async () => {
    const buf = new Float64Array([1, 2, 3]);
    const sum = await pool.apply((a: Float64Array) => a.reduce((s, x) => s + x, 0), [buf], {
      transfer: [buf.buffer],
    });
    assert.equal(sum, 6);
    assert.equal(buf.byteLength, caps.canTransfer ? 0 : 24);
    const arrays = [new Float64Array([1, 2]), new Float64Array([3])];
    const sums = await pool.map((a: Float64Array) => a.reduce((s, x) => s + x, 0), arrays, {
      transfer: arrays,
    });
    assert.deepEqual(sums, [3, 3]);
    assert.equal(arrays[0]!.byteLength, caps.canTransfer ? 0 : 16);
  });

  test('an uncloneable argument, item or result rejects with DataCloneError naming it', async () => {
    await assert.rejects(
      pool.apply(f.multiply as any, [1, () => 2]),
      (e: any) => e instanceof mp.DataCloneError && /argument 1/.test(e.message),
    );
    await assert.rejects(
      pool.map((x: unknown) => x, [1, 2, Symbol('x')], 1),
      (e: any) => e instanceof mp.DataCloneError && /item 2/.test(e.message),
    );
    await assert.rejects(
      pool.apply(f.uncloneableResult),
      (e: any) => e instanceof mp.DataCloneError && /result/.test(e.message),
    );
    assert.equal(await pool.apply(f.square, [3]), 9, 'the pool still works');
  });

  test('bad arguments: TypeError / RangeError naming the argument', async () => {
    assert.throws(() => new ctx.Pool(0), RangeError);
    assert.throws(() => new ctx.Pool(-1), RangeError);
    assert.throws(() => new ctx.Pool({ maxTasksPerChild: 0 }), RangeError);
    assert.throws(() => new ctx.Pool({ initializer: 3 as any }), TypeError);
    assert.throws(() => new ctx.Pool({ context: 'cluster' as any }), TypeError);
    await assert.rejects(pool.map(f.square, range(3), 0), RangeError);
    await assert.rejects(pool.map(f.square, range(3), 1.5), TypeError);
    await assert.rejects(pool.map(f.square, 5 as any), /iterable/);
    await assert.rejects(pool.apply(42 as any), TypeError);
    assert.throws(() => pool.imap(f.square, range(3), { chunksize: 0 }), RangeError);
    assert.throws(() => pool.imap(f.square, range(3), { buffersize: 0 }), RangeError);
    await assert.rejects(
      pool.apply(f.makeClosure(1), [1]),
      (e: any) => e instanceof mp.PicklingError,
    );
  });

  test('state rules: closed pools refuse work; join needs close or terminate', async () => {
    const p = new ctx.Pool(1);
    await assert.rejects(
      p.join(),
      (e: any) => e instanceof mp.InvalidStateError && e.code === 'ERR_POOL_RUNNING',
    );
    assert.equal(String(p), '<Pool state=RUN pool_size=1>');
    const pending = p.map(f.square, range(5));
    p.close();
    p.close();
    assert.equal(String(p), '<Pool state=CLOSE pool_size=1>');
    const notRunning = (e: any) =>
      e instanceof mp.InvalidStateError &&
      e.code === 'ERR_POOL_NOT_RUNNING' &&
      e.message === 'Pool not running';
    await assert.rejects(p.apply(f.square, [1]), notRunning);
    await assert.rejects(p.map(f.square, [1]), notRunning);
    await assert.rejects(p.starmap(f.multiply, []), notRunning);
    assert.throws(() => p.applyAsync(f.square, [1]), notRunning);
    assert.throws(() => p.mapAsync(f.square, [1]), notRunning);
    assert.throws(() => p.starmapAsync(f.multiply, []), notRunning);
    assert.throws(() => p.imap(f.square, [1]), notRunning);
    assert.throws(() => p.imapUnordered(f.square, [1]), notRunning);
    assert.deepEqual(await pending, [0, 1, 4, 9, 16], 'work submitted before close() finishes');
    await withDeadline(p.join());
    await withDeadline(p.join(), 5_000, 'a second join');
  });

  test('terminate() rejects every pending result with PoolTerminatedError', async () => {
    const p = new ctx.Pool(1);
    const it = p.imap(f.square, range(10));
    const queued = p.applyAsync(f.square, [2]);
    const outcomes = Promise.allSettled([
      p.apply(f.spin),
      queued.get(),
      p.map(f.square, range(10)),
      it.next(),
    ]);
    await withDeadline(p.terminate());
    for (const outcome of await outcomes) {
      assert.equal(outcome.status, 'rejected');
      assert.ok((outcome as PromiseRejectedResult).reason instanceof mp.PoolTerminatedError);
    }
    assert.deepEqual(await it.next(), { done: true, value: undefined });
    assert.equal(String(p), '<Pool state=TERMINATE pool_size=1>');
    await assert.rejects(p.apply(f.square, [1]), mp.InvalidStateError);
    await withDeadline(p.join());
    await withDeadline(p.terminate(), 5_000, 'terminate is idempotent');
  });

  test('pending work keeps the program alive; an idle pool never closed does not', async () => {
    const result = await runScript('fixtures/pool-forgotten.ts', [method], 60_000);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), '[1,4,9]');
  });

  test('Symbol.asyncDispose terminates the pool', async () => {
    const p = new ctx.Pool(1);
    const pending = p.apply(f.spin).catch((e: unknown) => e);
    await p[Symbol.asyncDispose]();
    assert.ok((await pending) instanceof mp.PoolTerminatedError);
  });
});
