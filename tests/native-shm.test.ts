// Tests of the native shared-memory addon: mappings, cross-process futexes, waiter threads, loading.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { fstatSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { checkNoLeaks, waitUntil, withDeadline } from './helpers/contexts.ts';
import { runScript } from './helpers/scripts.ts';
import { kWasmPage, loadShmAddon, shmUnavailableReason } from '../src/native/shm-addon.ts';
import type { NativeChildCommand } from './fixtures/native-child.ts';
import { hammer, kAdds, kGate, kPlain, kSlept } from './fixtures/native-mutex.ts';

checkNoLeaks();

const shm = loadShmAddon();
// Where the addon can run it must load: a failed build then fails here, visibly, in CI.
const runnable =
  process.platform === 'linux' && process.env.MULTIPROCESSING_TS_SHARED_MEMORY !== 'broker';
const skip = shm ? false : `the native addon is unavailable: ${shmUnavailableReason()}`;

/** An error check: `code`, and a message naming `words`. */
function fails(code: string, ...words: string[]): (error: unknown) => boolean {
  return (error) => {
    const { code: got, message } = error as Error & { code?: string };
    assert.equal(got, code, message);
    for (const word of words) assert.ok(message.includes(word), `"${word}" not in: ${message}`);
    return true;
  };
}

/** A one-segment Int32Array over a fresh memfd (the descriptor is closed: the mapping holds it). */
function segment(bytes = kWasmPage): Int32Array {
  const fd = shm!.createSegmentFd(bytes);
  try {
    return new Int32Array(shm!.mapSegment(fd, 0, bytes));
  } finally {
    shm!.closeFd(fd);
  }
}

describe('native shm addon: loading', () => {
  it('loads where it can run, and says why where it cannot', () => {
    if (runnable) {
      assert.equal(shmUnavailableReason(), null);
      assert.ok(shm);
    } else {
      assert.equal(shm, null);
      assert.match(String(shmUnavailableReason()), /Linux-only|forces the broker/);
    }
  });

  it('MULTIPROCESSING_TS_SHARED_MEMORY=broker makes the loader return null, saying so', async () => {
    const run = await runScript('fixtures/native-exit.ts', ['reason'], 60_000, {
      MULTIPROCESSING_TS_SHARED_MEMORY: 'broker',
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      loaded: false,
      reason: 'MULTIPROCESSING_TS_SHARED_MEMORY=broker forces the broker',
    });
  });
});

describe('native shm addon: segments', { skip }, () => {
  it('two mappings of one segment see the same memory; offsets pick pages', () => {
    const fd = shm!.createSegmentFd(3 * kWasmPage);
    const whole = new Int32Array(shm!.mapSegment(fd, 0, 3 * kWasmPage));
    const middle = new Int32Array(shm!.mapSegment(fd, kWasmPage, kWasmPage));
    shm!.closeFd(fd);
    whole[kWasmPage / 4 + 7] = 1234;
    assert.equal(middle[7], 1234);
    Atomics.store(middle, 0, -5);
    assert.equal(Atomics.load(whole, kWasmPage / 4), -5);
  });

  it('sizes round up to whole 64 KiB wasm pages', () => {
    const fd = shm!.createSegmentFd(1);
    assert.equal(shm!.segmentSize(fd), kWasmPage);
    const sab = shm!.mapSegment(fd, 0, 100);
    shm!.closeFd(fd);
    assert.ok(sab instanceof SharedArrayBuffer);
    assert.equal(sab.byteLength, kWasmPage);
  });

  it('allocates the whole segment up front, or only `reserve` of it and more on request', () => {
    const full = shm!.createSegmentFd(4 * kWasmPage);
    assert.ok(fstatSync(full).blocks * 512 >= 4 * kWasmPage);
    shm!.closeFd(full);
    const sparse = shm!.createSegmentFd(64 * kWasmPage, { reserve: 0 });
    assert.equal(fstatSync(sparse).blocks, 0);
    shm!.reserveSegment(sparse, 0, 2 * kWasmPage);
    assert.ok(fstatSync(sparse).blocks * 512 >= 2 * kWasmPage);
    assert.throws(
      () => shm!.reserveSegment(sparse, 63 * kWasmPage, 2 * kWasmPage),
      fails('ERR_SHM_OUT_OF_RANGE', 'past'),
    );
    shm!.closeFd(sparse);
  });

  it('rejects bad sizes, offsets and descriptors with errors naming them', () => {
    for (const size of [0, -1, 1.5, '8', NaN]) {
      assert.throws(
        () => shm!.createSegmentFd(size as number),
        fails('ERR_OUT_OF_RANGE', '"size"'),
      );
    }
    assert.throws(
      () => shm!.createSegmentFd(2 ** 50),
      fails('ERR_SHM_TOO_LARGE', String(2 ** 50), 'RAM'),
    );
    assert.throws(
      () => shm!.createSegmentFd(kWasmPage, { reserve: 2 * kWasmPage }),
      fails('ERR_OUT_OF_RANGE', '"reserve"'),
    );
    const fd = shm!.createSegmentFd(kWasmPage);
    assert.throws(
      () => shm!.mapSegment(fd, 100, kWasmPage),
      fails('ERR_SHM_MISALIGNED', '"fileOffset"'),
    );
    assert.throws(
      () => shm!.mapSegment(fd, 0, 2 * kWasmPage),
      fails('ERR_SHM_OUT_OF_RANGE', 'past'),
    );
    assert.throws(() => shm!.mapSegment(fd, 0, 0), fails('ERR_OUT_OF_RANGE', '"size"'));
    assert.throws(() => shm!.mapSegment(fd, 0, 2 ** 33), fails('ERR_SHM_TOO_LARGE', '"size"'));
    shm!.closeFd(fd);
    assert.throws(() => shm!.mapSegment(fd, 0, kWasmPage), fails('ERR_SHM_BAD_FD', '"fd"'));
    assert.throws(() => shm!.mapSegment(-1, 0, kWasmPage), fails('ERR_OUT_OF_RANGE', '"fd"'));
    assert.throws(() => shm!.segmentSize(fd), fails('ERR_SHM_BAD_FD', '"fd"'));
    assert.throws(
      () => shm!.openRemoteFd(process.pid, 1 << 30),
      fails('ERR_SHM_NO_SUCH_FD', '/proc/'),
    );
    assert.throws(() => shm!.openRemoteFd(0, 3), fails('ERR_OUT_OF_RANGE', '"pid"'));
  });

  it('refuses a reserve larger than the memory available or than the machine, before allocating', () => {
    const meminfo = readFileSync('/proc/meminfo', 'utf8');
    const kb = (key: string): number =>
      Number(new RegExp(`${key}:\\s+(\\d+)`).exec(meminfo)?.[1] ?? 0) * 1024;
    const total = kb('MemTotal') + kb('SwapTotal');
    const available = kb('MemAvailable') + kb('SwapFree');
    // Between what is free and what the machine has: no space now. When almost everything is
    // free there is no such size; more than the machine has is refused the same way, earlier.
    if (total - available >= 64 * kWasmPage) {
      const size = Math.floor((total + available) / 2 / kWasmPage) * kWasmPage;
      assert.throws(() => shm!.createSegmentFd(size), fails('ERR_SHM_NO_SPACE', String(size)));
    }
    const beyond = Math.ceil((total + 64 * kWasmPage) / kWasmPage) * kWasmPage;
    assert.throws(() => shm!.createSegmentFd(beyond), fails('ERR_SHM_TOO_LARGE', String(beyond)));
  });
});

describe('native shm addon: futexes in one process', { skip }, () => {
  it('rejects bad arrays and indexes, naming them', () => {
    const i32 = segment();
    assert.throws(
      () => shm!.futexWait(new Uint8Array(4) as never, 0, 0),
      fails('ERR_INVALID_ARG_TYPE', '"i32"'),
    );
    assert.throws(
      () => shm!.futexWait(i32, i32.length, 0, 0),
      fails('ERR_OUT_OF_RANGE', '"index"'),
    );
    assert.throws(() => shm!.futexWaitAsync(i32, -1, 0), fails('ERR_OUT_OF_RANGE', '"index"'));
    assert.throws(() => shm!.futexWake(i32, 0.5), fails('ERR_OUT_OF_RANGE', '"index"'));
    assert.throws(
      () => shm!.futexWait(i32, 0, 0, '5' as never),
      fails('ERR_INVALID_ARG_TYPE', '"timeout"'),
    );
  });

  it('reports not-equal and timed-out, sync and async', async () => {
    const i32 = segment();
    assert.equal(shm!.futexWait(i32, 0, 1), 'not-equal');
    assert.equal(await shm!.futexWaitAsync(i32, 0, 1), 'not-equal');
    const start = performance.now();
    assert.equal(shm!.futexWait(i32, 0, 0, 30), 'timed-out');
    assert.ok(performance.now() - start >= 29.5);
    assert.equal(await shm!.futexWaitAsync(i32, 0, 0, 30), 'timed-out');
    assert.equal(await shm!.futexWaitAsync(i32, 0, 0, 0), 'timed-out');
  });

  it('async waits sleep on their own threads, not on libuv pool: fs work goes on meanwhile', async () => {
    const i32 = segment();
    const waits = 8; // more than libuv's default pool of 4
    const settled: boolean[] = [];
    const all = Array.from({ length: waits }, (_, k) =>
      shm!.futexWaitAsync(i32, k, 0).then((result) => {
        settled[k] = true;
        return result;
      }),
    );
    assert.equal(shm!.waiterStats().pending, waits);
    const text = await withDeadline(
      readFile(fileURLToPath(import.meta.url), 'utf8'),
      20_000,
      'readFile',
    );
    assert.ok(text.length > 0);
    assert.equal(settled.filter(Boolean).length, 0, 'a wait settled before it was woken');
    // Wake each without changing its word, once its thread sleeps in the kernel (a store first
    // could beat a thread still on its way there, which would then see 'not-equal').
    for (let k = 0; k < waits; k++) {
      await withDeadline(
        waitUntil(() => shm!.futexWake(i32, k, 1) === 1, 20_000, `wait ${k} to sleep`),
      );
    }
    assert.deepEqual(await withDeadline(Promise.all(all)), Array(waits).fill('ok'));
    assert.equal(shm!.waiterStats().pending, 0);
    assert.ok(shm!.waiterStats().idle <= 4, 'idle threads beyond the kept few were ended');
  });

  it('an abort cancels a pending async wait and frees its thread', async () => {
    const i32 = segment();
    const controller = new AbortController();
    const waiting = shm!.futexWaitAsync(i32, 3, 0, undefined, controller.signal);
    assert.equal(shm!.waiterStats().pending, 1);
    controller.abort();
    assert.equal(await withDeadline(waiting), 'timed-out');
    assert.equal(shm!.waiterStats().pending, 0);
    assert.equal(await shm!.futexWaitAsync(i32, 3, 0, undefined, controller.signal), 'timed-out');
  });

  it('a pending async wait keeps the process alive, and lets it exit once settled', async () => {
    for (const mode of ['cancel', 'wake', 'timeout']) {
      const run = await runScript('fixtures/native-exit.ts', [mode], 60_000);
      assert.equal(run.code, 0, run.stderr);
      const expected = mode === 'wake' ? 'ok' : 'timed-out';
      assert.deepEqual(JSON.parse(run.stdout), { result: expected, pending: 0, futexWaitv: true });
    }
  });

  it('without futex_waitv (Linux < 5.16) a cancel or a worker teardown still reaches its wait', async () => {
    for (const mode of ['cancel', 'wake', 'worker']) {
      const run = await runScript('fixtures/native-exit.ts', [mode], 60_000, {
        MULTIPROCESSING_TS_NO_FUTEX_WAITV: '1',
      });
      assert.equal(run.code, 0, run.stderr);
      const result = mode === 'cancel' ? 'timed-out' : 'ok';
      assert.deepEqual(JSON.parse(run.stdout), { result, pending: 0, futexWaitv: false });
    }
  });
});

describe('native shm addon: worker_threads', { skip }, () => {
  const body = fileURLToPath(new URL('./fixtures/native-worker.ts', import.meta.url));
  // Node 20 threads do not inherit tsx's hooks: register them first, then import the body.
  const source = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    .then((tsx) => tsx.register())
    .then(() => import(${JSON.stringify(new URL(`file://${body}`).href)}))`;
  const start = (mode: string): Worker => new Worker(source, { eval: true, workerData: { mode } });
  const exited = (worker: Worker): Promise<number> =>
    withDeadline(new Promise((resolve) => worker.once('exit', resolve)), 20_000, 'worker exit');

  it('loads in a worker, which exits by itself after its waits', async () => {
    const worker = start('done');
    const reply = (await withDeadline(
      new Promise((resolve) => worker.once('message', resolve)),
    )) as Record<string, unknown>;
    assert.equal(reply.result, 'timed-out');
    assert.deepEqual([reply.threads, reply.idle, reply.pending], [1, 1, 0]);
    assert.equal(await exited(worker), 0);
  });

  it('terminating a worker with a pending wait ends its waiter thread', async () => {
    const before = shm!.waiterStats().processThreads;
    const worker = start('pending');
    const reply = (await withDeadline(
      new Promise((resolve) => worker.once('message', resolve)),
    )) as {
      pending: number;
    };
    assert.equal(reply.pending, 1);
    assert.equal(shm!.waiterStats().processThreads, before + 1);
    await worker.terminate();
    assert.equal(shm!.waiterStats().processThreads, before);
  });
});

describe('native shm addon: across processes', { skip }, () => {
  const size = kWasmPage;
  let child: ChildProcess;
  let i32: Int32Array;
  const replies: unknown[] = [];

  /** Sends `command` to the child and resolves with its reply. */
  async function ask(command: NativeChildCommand): Promise<Record<string, unknown>> {
    child.send(command);
    return (await next()) as Record<string, unknown>;
  }
  async function next(): Promise<unknown> {
    await withDeadline(
      waitUntil(() => replies.length > 0, 20_000, 'a reply of the child'),
      30_000,
      'a reply of the child',
    );
    return replies.shift();
  }

  before(async () => {
    const fixture = fileURLToPath(new URL('./fixtures/native-child.ts', import.meta.url));
    child = fork(fixture, [], { execArgv: ['--import', 'tsx'] });
    child.on('message', (m) => replies.push(m));
    assert.deepEqual(await next(), { ready: true });
    // Created after the child started: it reaches the segment through /proc/<ppid>/fd/<fd>.
    const fd = shm!.createSegmentFd(size);
    i32 = new Int32Array(shm!.mapSegment(fd, 0, size));
    assert.deepEqual(await ask({ op: 'map', fd, size }), { mapped: size / 4 });
    shm!.closeFd(fd);
  });

  after(async () => {
    const exit = new Promise((resolve) => child.once('exit', resolve));
    child.disconnect(); // the child then has nothing left to wait for and must exit by itself
    assert.equal(await withDeadline(exit, 20_000, 'the child to exit'), 0);
  });

  it('atomics and a futex mutex stay exact when both processes hammer the segment', async (t) => {
    const n = 100_000;
    child.send({ op: 'hammer', n });
    // Start together: sleep (blocking this thread) until the child opens the gate.
    while (Atomics.load(i32, kGate) === 0) shm!.futexWait(i32, kGate, 0, 20_000);
    hammer(shm!, i32, n);
    assert.deepEqual(await next(), { done: true });
    assert.equal(Atomics.load(i32, kAdds), 2 * n);
    assert.equal(Atomics.load(i32, kPlain), 2 * n);
    t.diagnostic(`the mutex was found held and slept on ${Atomics.load(i32, kSlept)} times`);
  });

  for (const mode of ['sync', 'async'] as const) {
    it(`the parent's futexWake wakes the child's ${mode} wait`, async () => {
      const at = mode === 'sync' ? 10 : 11;
      child.send({ op: 'wait', mode, at, expected: 0 });
      // The word never changes: only a wake delivered while the child sleeps can end its wait.
      await withDeadline(
        waitUntil(() => shm!.futexWake(i32, at, 1) === 1, 20_000, 'the child to sleep'),
      );
      assert.equal(((await next()) as { result: string }).result, 'ok');
    });

    it(`the child's ${mode} wait times out, or sees a different value`, async () => {
      const timed = await ask({ op: 'wait', mode, at: 12, expected: 0, ms: 50 });
      assert.equal(timed.result, 'timed-out');
      assert.ok((timed.ms as number) >= 49.5, `woke after ${timed.ms} ms`);
      const differs = await ask({ op: 'wait', mode, at: 12, expected: 7, ms: 5_000 });
      assert.equal(differs.result, 'not-equal');
    });
  }

  it("the child's futexWake wakes the parent's async wait", async () => {
    const waiting = shm!.futexWaitAsync(i32, 13, 0, 20_000);
    assert.deepEqual(await ask({ op: 'poke', at: 13 }), { woken: 1 });
    assert.equal(await withDeadline(waiting), 'ok');
  });
});
