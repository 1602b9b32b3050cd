// Pool faults where Python hangs: dead workers, throwing initializers and callbacks, aborts and timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as mp from '../src/index.ts';
import { checkNoLeaks, forEachContext, waitUntil, withDeadline } from './helpers/contexts.ts';
import * as f from './fixtures/pool-fns.ts';

checkNoLeaks();

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const dir = mkdtempSync(join(tmpdir(), 'pool-faults-'));
let files = 0;
const tempFile = () => join(dir, `f${++files}`);
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

async function closeAndJoin(pool: mp.Pool): Promise<void> {
  pool.close();
  await withDeadline(pool.join(), 30_000, 'pool.join()');
}

const died =
  (exitCode: number | null, signal: string | null = null) =>
  (e: any) =>
    e instanceof mp.WorkerDiedError &&
    e.code === 'ERR_WORKER_DIED' &&
    e.exitCode === exitCode &&
    e.signal === signal;

forEachContext('Pool faults', (ctx, _name, caps) => {
  test('process.exit() in a task rejects it with WorkerDiedError; the pool keeps serving', async () => {
    const pool = new ctx.Pool(2);
    try {
      const others = pool.map(f.square, range(20), 1);
      await assert.rejects(withDeadline(pool.apply(f.exitWith, [3])), died(3));
      assert.deepEqual(
        await others,
        range(20).map((x) => x * x),
      );
      const ids = new Set(await pool.map(f.workerId, range(8), 1));
      assert.ok(ids.size >= 1);
      assert.equal(await pool.apply(f.square, [4]), 16);
    } finally {
      await closeAndJoin(pool);
    }
  });

  test('an uncaught error outside the task kills the worker: WorkerDiedError (exit code 1)', async () => {
    const pool = new ctx.Pool(1);
    try {
      await assert.rejects(withDeadline(pool.apply(f.throwLater)), died(1));
      assert.equal(await pool.apply(f.square, [5]), 25);
    } finally {
      await closeAndJoin(pool);
    }
  });

  test('a worker that runs out of memory fails its task and is replaced', async () => {
    const pool = new ctx.Pool({
      processes: 1,
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
    });
    try {
      const error: any = await withDeadline(pool.apply(f.allocateForever), 60_000).catch((e) => e);
      assert.ok(error instanceof mp.WorkerDiedError, String(error));
      // A worker thread's out-of-memory ends the Worker with code 1; a process aborts.
      if (!caps.ownProcess) assert.equal(error.exitCode, 1);
      else assert.ok(error.exitCode !== 0 && error.exitCode !== null);
      assert.equal(await pool.apply(f.square, [7]), 49);
    } finally {
      await closeAndJoin(pool);
    }
  });

  test('a worker death fails the map it was running', async () => {
    const pool = new ctx.Pool(2);
    try {
      await assert.rejects(
        withDeadline(pool.map((x: number) => (x === 5 ? process.exit(9) : x), range(10), 1)),
        died(9),
      );
    } finally {
      await closeAndJoin(pool);
    }
  });

  test('map rejects on its first error and withdraws the chunks not yet started', async () => {
    const pool = new ctx.Pool(1);
    const log = tempFile();
    try {
      await assert.rejects(
        pool.starmap(
          f.logAndFailFirst,
          range(20).map((i) => [i, log] as [number, string]),
          1,
        ),
        /first item fails/,
      );
    } finally {
      await closeAndJoin(pool);
    }
    const ran = readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(
      ran.length <= 2,
      `only the failing chunk and at most one more ran, got ${ran.length}`,
    );
  });

  test('an initializer that throws fails the tasks with its error instead of respawning forever', async () => {
    const pool = new ctx.Pool({ processes: 2, initializer: f.badInit });
    try {
      const isInitError = (e: any) =>
        e instanceof TypeError && e.message === 'init failed on purpose';
      await assert.rejects(withDeadline(pool.apply(f.square, [1])), isInitError);
      await assert.rejects(withDeadline(pool.map(f.square, range(10))), isInitError);
      const it = pool.imap(f.square, range(3));
      await assert.rejects(withDeadline(it.next()), isInitError);
    } finally {
      await closeAndJoin(pool);
    }
  });

  test('a callback that throws does not break the pool: logged and emitted as "error"', async () => {
    const pool = new ctx.Pool(1);
    try {
      const errors: unknown[] = [];
      pool.on('error', (e) => errors.push(e));
      const r = pool.applyAsync(f.square, [3], {
        callback: () => {
          throw new Error('callback boom');
        },
      });
      assert.equal(await r.get(20_000), 9, 'the result is still delivered');
      const bad = pool.applyAsync(f.failAt3, [3], {
        errorCallback: () => {
          throw new Error('errorCallback boom');
        },
      });
      await assert.rejects(bad.get(20_000), RangeError);
      await pool.map(f.square, range(4), {
        onProgress: () => {
          throw new Error('progress boom');
        },
      });
      assert.deepEqual(
        errors.map((e) => (e as Error).message),
        [
          'callback boom',
          'errorCallback boom',
          'progress boom',
          'progress boom',
          'progress boom',
          'progress boom',
        ],
      );
      assert.equal(await pool.apply(f.square, [2]), 4, 'the pool still works');
    } finally {
      await closeAndJoin(pool);
    }
  });

  test('without an "error" listener a throwing callback becomes a process warning', async () => {
    const pool = new ctx.Pool(1);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const r = pool.applyAsync(f.square, [3], {
        callback: () => {
          throw new Error('quiet boom');
        },
      });
      await r;
      await waitUntil(() => warnings.some((w) => /quiet boom/.test(w.message)));
    } finally {
      process.off('warning', onWarning);
      await closeAndJoin(pool);
    }
  });

  test('aborting a queued task withdraws it; aborting a running task replaces its worker', async () => {
    const pool = new ctx.Pool(1);
    const marker = tempFile();
    try {
      const ac = new AbortController();
      const running = pool.apply(f.markThenSpin, [marker], { signal: ac.signal });
      const queued = new AbortController();
      const waiting = pool.apply(f.square, [2], { signal: queued.signal });
      queued.abort(new Error('not needed'));
      await assert.rejects(
        waiting,
        (e: any) => e instanceof mp.AbortError && e.code === 'ERR_ABORTED',
      );
      await waitUntil(() => existsSync(marker), 30_000, 'the task to start');
      const before = await Promise.race([
        running.then(() => 'settled'),
        Promise.resolve('pending'),
      ]);
      assert.equal(before, 'pending');
      ac.abort();
      await assert.rejects(withDeadline(running), mp.AbortError);
      assert.equal(await pool.apply(f.square, [3]), 9, 'a replacement worker serves');
      const pre = AbortSignal.abort();
      await assert.rejects(pool.apply(f.square, [1], { signal: pre }), mp.AbortError);
      await assert.rejects(pool.map(f.square, [1, 2], { signal: pre }), mp.AbortError);
    } finally {
      await closeAndJoin(pool);
    }
  });

  test('aborting a map or an imap stops its work', async () => {
    const pool = new ctx.Pool(2);
    try {
      const ac = new AbortController();
      const mapped = pool.map(f.spin as (x: number) => never, range(4), { signal: ac.signal });
      const it = pool.imap(f.spin as (x: number) => never, range(4), { signal: ac.signal });
      const next = it.next();
      ac.abort();
      await assert.rejects(withDeadline(mapped), mp.AbortError);
      await assert.rejects(withDeadline(next), mp.AbortError);
      assert.deepEqual(await pool.map(f.square, [1, 2]), [1, 4]);
    } finally {
      await closeAndJoin(pool);
    }
  });

  test('a task that runs past its timeout fails with TimeoutError and its worker is replaced', async () => {
    const pool = new ctx.Pool({ processes: 1, taskTimeout: 100 });
    try {
      await assert.rejects(
        withDeadline(pool.apply(f.spin)),
        (e: any) => e instanceof mp.TimeoutError && e.code === 'ERR_TIMEOUT',
      );
      await assert.rejects(
        withDeadline(pool.map(f.spin as (x: number) => never, [1, 2], { timeout: 50 })),
        mp.TimeoutError,
      );
      assert.equal(
        await pool.apply(f.square, [8], { timeout: 30_000 }),
        64,
        'the timeout counts from the start of the task, so a replacement worker start-up does not count',
      );
    } finally {
      await closeAndJoin(pool);
    }
  });
});

// A signal reaches one worker alone only when the worker is a process of its own.
forEachContext(
  'Pool faults: signals',
  (ctx) => {
    test('kill -9 of a worker rejects its task with exitCode -9, signal SIGKILL', async () => {
      const pool = new ctx.Pool(1);
      try {
        await assert.rejects(withDeadline(pool.apply(f.killSelf)), died(-9, 'SIGKILL'));
        assert.equal(await pool.apply(f.square, [6]), 36);
      } finally {
        await closeAndJoin(pool);
      }
    });
  },
  { requires: ['ownProcess'] },
);
