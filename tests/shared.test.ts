// Value, RawValue, Array, RawArray and SharedMemory in both contexts: Python's semantics (A.6, A.8), travel, stress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import * as w from './fixtures/sync-workers.ts';

checkNoLeaks();

const kCodes = ['b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q', 'f', 'd'] as const;
const kBig = new Set(['l', 'L', 'q', 'Q']);

async function runAll(
  ctx: mp.Context,
  target: (...a: any[]) => unknown,
  argsList: unknown[][],
): Promise<(number | null)[]> {
  const ps = argsList.map((args) => new ctx.Process({ target, args }));
  for (const p of ps) p.start();
  for (const p of ps) await withDeadline(p.join(), 120_000, `${p.name} to exit`);
  return ps.map((p) => p.exitCode);
}

forEachContext('Value / RawValue', (ctx, _name, caps) => {
  test('every typecode starts at 0 (0n for l L q Q) and stores its kind of number', () => {
    for (const code of kCodes) {
      const v = ctx.Value(code);
      assert.equal(v.value, kBig.has(code) ? 0n : 0, code);
      v.value = (kBig.has(code) ? 5n : 5) as never;
      assert.equal(v.value, kBig.has(code) ? 5n : 5, code);
      assert.equal(ctx.RawValue(code).value, kBig.has(code) ? 0n : 0, code);
    }
    assert.equal(ctx.Value('d', 1.25).value, 1.25);
    assert.equal(ctx.Value('f', 0.1).value, Math.fround(0.1));
    assert.equal(
      ctx.Value('q', 5 as never).value,
      5n,
      'an integer number is accepted for a bigint code',
    );
  });

  test('integers wrap around as in Python/C', () => {
    assert.equal(ctx.Value('b', 200).value, -56);
    assert.equal(ctx.Value('B', 256 + 7).value, 7);
    assert.equal(ctx.Value('h', 40_000).value, -25_536);
    assert.equal(ctx.Value('H', -1).value, 65_535);
    assert.equal(ctx.Value('i', 2 ** 31).value, -(2 ** 31));
    assert.equal(ctx.Value('I', -1).value, 4_294_967_295);
    assert.equal(ctx.Value('q', 2n ** 63n).value, -(2n ** 63n));
    assert.equal(ctx.Value('Q', -1n).value, 2n ** 64n - 1n);
    assert.equal(ctx.Value('l', 2n ** 64n + 3n).value, 3n);
    const v = ctx.Value('b', 127);
    v.value += 1;
    assert.equal(v.value, -128);
  });

  test('wrong types and unknown typecodes are TypeErrors naming them', () => {
    assert.throws(
      () => ctx.Value('i', 1.5),
      /Expected `init` to be an integer, got 1\.5 \(number\)/,
    );
    assert.throws(() => ctx.Value('d', '1' as never), TypeError);
    assert.throws(() => ctx.Value('q', 1.5 as never), TypeError);
    assert.throws(
      () => ctx.Value('x' as never),
      /Expected `typecode` to be one of 'b', 'B', .*got "x" \(string\)/,
    );
    assert.throws(() => ctx.RawValue('c' as never), TypeError);
    const v = ctx.Value('i');
    assert.throws(() => {
      v.value = 0.5;
    }, TypeError);
    assert.throws(
      () => ctx.Value('i', 0, { lock: 'yes' as never }),
      /Expected `lock` to be a boolean, a Lock or an RLock/,
    );
  });

  test('lock option: default RLock, a given Lock/RLock as is, false for a raw value', () => {
    const v = ctx.Value('i', 1);
    assert.ok(v.getLock() instanceof ctx.RLock);
    const lock = new ctx.Lock();
    assert.equal(ctx.Value('i', 0, { lock }).getLock(), lock);
    const rlock = new ctx.RLock();
    assert.equal(ctx.Value('i', 0, { lock: rlock }).getLock(), rlock);
    assert.ok(ctx.Value('i', 0, { lock: true }).getLock() instanceof ctx.RLock);
    const raw = ctx.Value('i', 3, { lock: false });
    assert.ok(raw instanceof mp.RawSharedValue);
    assert.equal('getLock' in raw, false);
    assert.equal(raw.value, 3);
    assert.equal(String(v), '<Synchronized wrapper for i(1)>');
  });

  test('getObj() shares the memory; .value inside the default RLock works; a plain Lock would deadlock', () => {
    const v = ctx.Value('d', 2.5);
    const obj = v.getObj();
    obj.value = 4;
    assert.equal(v.value, 4);
    v.getLock().acquireSync();
    v.value += 1; // the RLock is re-entered by .value
    v.getLock().release();
    assert.equal(v.value, 5);
    const plain = ctx.Value('i', 0, { lock: new ctx.Lock() });
    plain.getLock().acquireSync();
    // `.value` would wait for the Lock this thread holds (Python's documented pitfall);
    // the lock shows it is taken, so do not touch .value here.
    assert.equal(plain.getLock().acquireSync({ timeout: 0 }), false);
    plain.getLock().release();
    assert.equal(plain.value, 0);
  });

  test('the seed program: five processes increment one Value under getLock() → 5', async () => {
    const v = ctx.Value('i', 0);
    const codes = await runAll(
      ctx,
      w.incrementSync,
      [1, 2, 3, 4, 5].map(() => [v, 1]),
    );
    assert.deepEqual(codes, [0, 0, 0, 0, 0]);
    assert.equal(v.value, 5);
  });

  test('2 × 50,000 locked increments stay exact (sync forms); async forms too', async () => {
    // Fewer where each access is a round trip to another thread.
    const n = caps.syncCalls ? 50_000 : 2_000;
    const v = ctx.Value('i', 0);
    assert.deepEqual(
      await runAll(ctx, w.incrementSync, [
        [v, n],
        [v, n],
      ]),
      [0, 0],
    );
    assert.equal(v.value, 2 * n);
    const a = ctx.Value('i', 0);
    const m = caps.syncCalls ? 2_000 : 200;
    assert.deepEqual(
      await runAll(ctx, w.incrementAsync, [
        [a, m],
        [a, m],
      ]),
      [0, 0],
    );
    assert.equal(a.value, 2 * m);
  });

  test('values, bigints and raw values written by a worker are seen here', async () => {
    const arr = ctx.Array('d', [1, 2, 3]);
    const big = ctx.Value('q', 2n ** 40n);
    const raw = ctx.RawValue('i', 0);
    assert.deepEqual(await runAll(ctx, w.writeShared, [[arr, big, raw]]), [0]);
    assert.deepEqual([...arr], [2, 4, 6]);
    assert.equal(big.value, 2n ** 40n + 1n);
    assert.equal(raw.value, 77);
  });
});

forEachContext('Array / RawArray', (ctx, _name, caps) => {
  test('a real typed array over shared memory, from a size or a sequence', () => {
    const a = ctx.Array('i', 4);
    assert.ok(a instanceof Int32Array);
    assert.ok(a.buffer instanceof SharedArrayBuffer);
    assert.equal(a.length, 4);
    assert.deepEqual([...a], [0, 0, 0, 0]);
    a[1] = 5;
    a.set([7, 8], 2);
    assert.deepEqual([...a], [0, 5, 7, 8]);
    const sub = a.subarray(1, 3);
    assert.ok(!('getLock' in sub), 'subarray is a plain typed array');
    sub[0] = 9;
    assert.equal(a[1], 9);
    assert.equal(a.typecode, 'i');
    const q = ctx.Array('Q', [1n, 2n, 3]);
    assert.ok(q instanceof BigUint64Array);
    assert.deepEqual([...q], [1n, 2n, 3n]);
    const from = ctx.Array('d', new Float64Array([0.5, 1.5]));
    assert.deepEqual([...from], [0.5, 1.5]);
    assert.equal(ctx.Array('b', [200])[0], -56);
  });

  test('out-of-range reads give undefined and writes are ignored, as typed arrays do', () => {
    const a = ctx.Array('i', [1, 2]);
    assert.equal(a[2], undefined);
    assert.equal(a[-1], undefined);
    (a as unknown as number[])[5] = 3;
    assert.equal(a.length, 2);
    assert.equal(a.at(-1), 2);
  });

  test('getLock() / getObj(); lock option; bad arguments', () => {
    const a = ctx.Array('d', 3);
    assert.ok(a.getLock() instanceof ctx.RLock);
    const obj = a.getObj();
    assert.ok(obj instanceof Float64Array && !('getLock' in obj));
    obj[0] = 1.5;
    assert.equal(a[0], 1.5);
    const lock = new ctx.Lock();
    assert.equal(ctx.Array('i', 1, { lock }).getLock(), lock);
    const noLock = ctx.Array('i', 2, { lock: false });
    assert.ok(noLock instanceof Int32Array && !('getLock' in noLock));
    assert.equal(
      a.withLockSync(() => a[0]! + 1),
      2.5,
    );
    assert.throws(() => ctx.Array('x' as never, 3), /Expected `typecode` to be one of/);
    assert.throws(() => ctx.Array('i', -1), RangeError);
    assert.throws(() => ctx.Array('i', [1.5]), /Expected `sizeOrInit\[0\]` to be an integer/);
    assert.throws(() => ctx.Array('i', 'abc' as never), TypeError);
  });

  test('RawArray is a plain typed array over a SharedArrayBuffer', () => {
    const r = ctx.RawArray('d', [1, 2, 3]);
    assert.equal(Object.getPrototypeOf(r), Float64Array.prototype);
    assert.ok(r.buffer instanceof SharedArrayBuffer);
    assert.throws(() => ctx.RawArray('z' as never, 1), TypeError);
  });

  test('locked increments of one element from 2 workers stay exact', async () => {
    const a = ctx.Array('i', 2);
    const n = caps.syncCalls ? 5_000 : 200;
    const lock = a.getLock() as mp.Lock;
    assert.deepEqual(
      await runAll(ctx, w.incrementWithLock, [
        [lock, a, n],
        [lock, a, n],
      ]),
      [0, 0],
    );
    assert.equal(a[0], 2 * n);
  });

  test('a RawArray passed to a worker: shared, except with a child process on the broker (copied)', async () => {
    const r = ctx.RawArray('d', [1, 2, 3]);
    const out = ctx.Value('d', 0);
    assert.deepEqual(await runAll(ctx, w.sumAndDouble, [[r, out]]), [0]);
    assert.equal(out.value, 6);
    assert.deepEqual([...r], ctx.sharedMemory === 'broker' ? [1, 2, 3] : [2, 4, 6]);
  });
});

forEachContext('SharedMemory', (ctx) => {
  test('create, attach by name, size, buf, close, unlink', () => {
    const shm = new ctx.SharedMemory({ create: true, size: 16 });
    assert.match(shm.name, /^psm_[0-9a-f]{8}$/);
    assert.equal(shm.size, 16);
    assert.match(String(shm), /^SharedMemory\('psm_[0-9a-f]{8}', size=16\)$/);
    shm.buf![3] = 42;
    const again = new ctx.SharedMemory({ name: shm.name, size: 999 });
    assert.equal(again.size, 16, 'the size given when attaching is ignored');
    assert.equal(again.buf![3], 42);
    again.close();
    again.close();
    assert.equal(again.buf, null);
    shm.unlink();
    assert.throws(() => shm.unlink(), mp.FileNotFoundError);
    assert.equal(shm.buf![3], 42, 'attached memory stays usable after unlink');
  });

  test("Python's errors: missing and taken names, bad sizes, no name", () => {
    assert.throws(() => new ctx.SharedMemory({ name: 'mp-test-missing' }), mp.FileNotFoundError);
    const a = new ctx.SharedMemory({ name: 'mp-test-taken', create: true, size: 8 });
    assert.throws(
      () => new ctx.SharedMemory({ name: 'mp-test-taken', create: true, size: 8 }),
      (e: unknown) => e instanceof mp.FileExistsError && e.code === 'ERR_FILE_EXISTS',
    );
    a.unlink();
    assert.throws(() => new ctx.SharedMemory({ create: true, size: -1 }), RangeError);
    assert.throws(() => new ctx.SharedMemory({ create: true, size: 0 }), RangeError);
    assert.throws(() => new ctx.SharedMemory({ create: true }), RangeError);
    assert.throws(() => new ctx.SharedMemory({}), /`name`/);
    assert.throws(() => new ctx.SharedMemory({ name: 'a\0b' }), TypeError);
  });

  test('a worker attaches by name and writes; one passed as an argument shares the bytes', async () => {
    const shm = new ctx.SharedMemory({ create: true, size: 8 });
    assert.deepEqual(await runAll(ctx, w.writeByName, [[shm.name, [1, 2, 3]]]), [0]);
    assert.deepEqual([...shm.buf!.subarray(0, 4)], [1, 2, 3, 0]);
    assert.deepEqual(await runAll(ctx, w.writeShm, [[shm, [9, 8]]]), [0]);
    assert.deepEqual([...shm.buf!.subarray(0, 3)], [9, 8, 3]);
    shm.unlink();
  });
});
