// Mapped shared memory of the process context: exact results under contention, real memory in children, hazards.
import { after as afterAll, before as beforeAll, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import * as mp from '../src/index.ts';
import { mappedUnavailableReason } from '../src/shared/providers.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import * as w from './fixtures/mapped-workers.ts';
import {
  type Run,
  running,
  shmEntries,
  startProgram,
  survivorsOf,
} from './fixtures/mapped-program-runner.ts';

checkNoLeaks();

const ctx = mp.getContext('process');

/**
 * A suite about mapped memory itself: it runs in the process context when that context maps
 * shared memory, and otherwise registers an empty describe saying why.
 */
function describeMapped(
  title: string,
  body: () => void,
  options: { concurrency?: boolean } = {},
): void {
  if (ctx.sharedMemory === 'mapped') {
    describe(`${title} [process, mapped]`, options, body);
    return;
  }
  const reason = mappedUnavailableReason() ?? 'the process context did not choose it';
  describe(`${title} [process]: not run (shared memory is ${ctx.sharedMemory}: ${reason})`, () => {});
}

/** Stops what is still running of `ps` and waits for it (so one failure does not leak workers). */
async function settle(ps: readonly mp.Process<any>[]): Promise<void> {
  for (const p of ps) if (p.pid !== undefined && p.isAlive()) p.kill();
  for (const p of ps) if (p.pid !== undefined) await withDeadline(p.join(), 20_000).catch(() => {});
}

/** Starts every process of `ps`, waits for each with a deadline, and returns their exit codes. */
async function runAll(ps: readonly mp.Process<any>[], ms = 120_000): Promise<(number | null)[]> {
  try {
    for (const p of ps) p.start();
    for (const p of ps) await withDeadline(p.join(), ms, `${p.name} to exit`);
    return ps.map((p) => p.exitCode);
  } finally {
    await settle(ps);
  }
}

/** Runs `body` with `ps` started, and settles them whatever happens. */
async function withProcesses<T>(
  ps: readonly mp.Process<any>[],
  body: () => Promise<T>,
): Promise<T> {
  try {
    for (const p of ps) p.start();
    return await body();
  } finally {
    await settle(ps);
  }
}

/** Polls `predicate` every 50 ms (other processes need the CPU) until it holds or `ms` pass. */
async function pollUntil(predicate: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate() && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
}

async function joined(p: mp.Process<any>): Promise<number | null> {
  await withDeadline(p.join(), 60_000, `${p.name} to exit`);
  return p.exitCode;
}

forEachContext('contention: exact totals', (c, _name, caps) => {
  test('4 processes × 100,000 increments of one Value under getLock() (acquireSync/release)', async () => {
    // Through the broker every acquire is a round trip: fewer there.
    const n = caps.syncCalls ? 100_000 : 2_000;
    const v = c.Value('i', 0);
    const ps = [0, 1, 2, 3].map(() => new c.Process({ target: w.lockedIncrements, args: [v, n] }));
    assert.deepEqual(await runAll(ps, 300_000), [0, 0, 0, 0]);
    assert.equal(v.value, 4 * n);
  });

  test('the async form: 4 processes × withLock increments', async () => {
    const n = caps.syncCalls ? 2_000 : 300;
    const v = c.Value('i', 0);
    const ps = [0, 1, 2, 3].map(
      () => new c.Process({ target: w.lockedIncrementsAsync, args: [v, n] }),
    );
    assert.deepEqual(await runAll(ps, 300_000), [0, 0, 0, 0]);
    assert.equal(v.value, 4 * n);
  });
});

forEachContext('contention: bounded queues', (c, _name, caps) => {
  test('3 producers × 3 consumers over Queue(8): every item consumed exactly once', async () => {
    const perProducer = caps.syncCalls ? 2_000 : 300;
    const q = new c.Queue<w.Item | null>(8);
    const out = new c.Queue<w.Item[]>();
    const consumers = [0, 1, 2].map(
      () => new c.Process({ target: w.consumeUntilSentinel, args: [q, out] }),
    );
    const producers = [1, 2, 3].map(
      (id) => new c.Process({ target: w.produceItems, args: [q, id, perProducer] }),
    );
    const lists = await withProcesses([...consumers, ...producers], async () => {
      for (const p of producers) assert.equal(await joined(p), 0);
      for (let i = 0; i < 3; i++) await withDeadline(q.put(null), 60_000, 'a sentinel');
      const got: w.Item[][] = [];
      for (let i = 0; i < 3; i++) got.push(await withDeadline(out.get(), 60_000, 'a report'));
      for (const p of consumers) assert.equal(await joined(p), 0);
      return got;
    });
    const counts = new Map<string, number>();
    for (const list of lists) {
      const last = new Map<number, number>();
      for (const [id, i] of list) {
        assert.ok((last.get(id) ?? -1) < i, `producer ${id}'s items reach a consumer in order`);
        last.set(id, i);
        counts.set(`${id}:${i}`, (counts.get(`${id}:${i}`) ?? 0) + 1);
      }
    }
    assert.equal(lists.flat().length, 3 * perProducer, 'as many items consumed as produced');
    for (const id of [1, 2, 3]) {
      for (let i = 0; i < perProducer; i++) {
        assert.equal(counts.get(`${id}:${i}`), 1, `item [${id}, ${i}] consumed exactly once`);
      }
    }
    assert.equal(q.empty(), true);
  });

  test('JoinableQueue: 3 consumers mark every item done; join() waits for all of them', async () => {
    const q = new c.JoinableQueue<number | null>(8);
    const out = new c.Queue<number>();
    const consumers = [0, 1, 2].map(
      () => new c.Process({ target: w.joinableConsumer, args: [q, out] }),
    );
    await withProcesses(consumers, async () => {
      for (let i = 1; i <= 60; i++) await withDeadline(q.put(i), 60_000, 'a put');
      for (let i = 0; i < 3; i++) await withDeadline(q.put(null), 60_000, 'a sentinel');
      await withDeadline(q.join(), 60_000, 'join()');
      assert.equal(out.qsize(), 60, 'join() resolved only once every item was processed');
      for (const p of consumers) assert.equal(await joined(p), 0);
    });
    const got: number[] = [];
    for (let i = 0; i < 60; i++) got.push(out.getNowait());
    assert.deepEqual(
      got.sort((a, b) => a - b),
      Array.from({ length: 60 }, (_, i) => 2 * (i + 1)),
    );
  });
});

describeMapped('real memory in children', () => {
  /** Runs probeFloats over `view` (and `v`) in a child: what each side saw of the other's writes. */
  async function probe(
    view: Float64Array,
    v: mp.SynchronizedValue<number> | null,
  ): Promise<{ child: any; parent: { view: number[]; v: number | null } }> {
    const [written, answered] = [new ctx.Event(), new ctx.Event()];
    const report = new ctx.Queue<any>();
    const p = new ctx.Process({
      target: w.probeFloats,
      args: [view, v, written, answered, report],
    });
    return withProcesses([p], async () => {
      assert.equal(await withDeadline(written.wait(60_000)), true);
      // The child's writes must be here, with no message carrying them; then ours go there.
      const parent = { view: [...view], v: v ? v.value : null };
      view[0] = -1;
      if (v) v.value = -3;
      answered.set();
      const child = await withDeadline(report.get(), 60_000, 'the report');
      assert.equal(await joined(p), 0);
      return { child, parent };
    });
  }

  const kReal = { typed: true, shared: true, direct: true };

  test('Array and Value: a real Float64Array in the child, writes seen both ways', async () => {
    const { child, parent } = await probe(ctx.Array('d', 4), ctx.Value('d', 0));
    assert.deepEqual(child.facts, kReal);
    assert.equal(child.locked, true, 'the Array keeps getLock, withLock and withLockSync');
    assert.equal(child.wasAnswered, true);
    assert.deepEqual(parent, { view: [0.5, 1.5, 2.5, 3.5], v: 42.5 });
    assert.deepEqual(child.seen, [-1, -3]);
  });

  test('RawArray: zero-copy, a plain Float64Array over the same memory in the child', async () => {
    const { child, parent } = await probe(ctx.RawArray('d', 3), null);
    assert.deepEqual(child.facts, kReal, 'the child got a copy of the RawArray');
    assert.equal(child.plain, true, 'a plain Float64Array');
    assert.equal(child.locked, false);
    assert.deepEqual(parent.view, [0.5, 1.5, 2.5], "the child's writes are seen here");
    assert.deepEqual(child.seen, [-1, null], "this process's writes are seen there");
  });

  test('SharedMemory.buf passed as an argument is a real Uint8Array whose writes the parent sees', async () => {
    const shm = new ctx.SharedMemory({ create: true, size: 64 });
    try {
      shm.buf![10] = 42;
      const report = new ctx.Queue<any>();
      const p = new ctx.Process({ target: w.probeSharedMemory, args: [shm, report] });
      const seen = await withProcesses([p], async () => {
        const got = await withDeadline(report.get(), 60_000, 'the report');
        assert.equal(await joined(p), 0);
        return got;
      });
      assert.deepEqual(seen, {
        facts: { typed: true, shared: true, direct: true },
        before: 42,
        size: 64,
      });
      assert.deepEqual([...shm.buf!.subarray(0, 4)], [1, 2, 3, 0]);
    } finally {
      shm.unlink();
    }
  });

  test('ShareableList: item writes in the child are read here', async () => {
    const sl = new ctx.ShareableList([21, 'abcdefgh', 0n, 'x']);
    try {
      const p = new ctx.Process({ target: w.editList, args: [sl] });
      assert.deepEqual(await runAll([p]), [0]);
      assert.deepEqual(sl.toArray(), [42, 'mapped', 7n, null]);
    } finally {
      sl.shm.unlink();
    }
  });

  test('Pipe: 2,000 recvSync/send echo round trips, in order, then EOF ends the child', async () => {
    const [mine, theirs] = ctx.Pipe<unknown>();
    const p = new ctx.Process({ target: w.echoSync, args: [theirs] });
    await withProcesses([p], async () => {
      theirs.close();
      const items = [0, 'text', { nested: [1, 2n] }, null, new Uint8Array([1, 2])];
      for (let i = 0; i < 2_000; i++) {
        const item = i < items.length ? items[i] : i;
        mine.send(item);
        assert.deepEqual(await withDeadline(mine.recv(), 30_000, `echo ${i}`), item);
      }
      mine.close();
      assert.equal(await joined(p), 0);
    });
  });

  test('Event, Condition, Barrier(3) and Semaphore(2) shared by 3 processes (sync and async waits)', async () => {
    const kit: w.PartyKit = {
      go: new ctx.Event(),
      ready: ctx.Value('i', 0),
      marks: ctx.Array('i', 3, { lock: false }),
      cond: new ctx.Condition(),
      box: ctx.Array('i', 2, { lock: false }),
      each: 50,
      barrier: new ctx.Barrier(3),
      seen: ctx.Array('i', 3 * 20, { lock: false }),
      rounds: 20,
      sem: new ctx.Semaphore(2),
      stats: ctx.Array('i', 3),
      n: 500,
    };
    const ps = [true, false, true].map(
      (sync, slot) => new ctx.Process({ target: w.syncParty, args: [kit, slot, sync] }),
    );
    await withProcesses(ps, async () => {
      // Event: every party waits until this process sets it.
      await pollUntil(() => kit.ready.value === 3, 60_000);
      assert.equal(kit.ready.value, 3, 'three waiters');
      assert.deepEqual([...kit.marks], [0, 0, 0], 'nobody passes an unset Event');
      kit.go.set();
      // Condition: the parties take every item this process notifies.
      for (let i = 0; i < 3 * kit.each; i++) {
        assert.equal(await withDeadline(kit.cond.acquire(), 30_000, 'the condition lock'), true);
        kit.box[0] = kit.box[0]! + 1;
        kit.cond.notify();
        kit.cond.release();
      }
      // Barrier and Semaphore: between the parties alone.
      for (const p of ps)
        assert.equal(await joined(p), 0, `${p.name} failed (its stderr says why)`);
    });
    assert.deepEqual([...kit.marks], [1, 1, 1], 'every party woke up from the Event');
    assert.deepEqual([...kit.box], [0, 3 * kit.each], 'every notified item taken once');
    assert.deepEqual([...kit.seen], new Array(3 * kit.rounds).fill(1), 'each index once a round');
    assert.equal(kit.barrier.broken, false);
    const { stats, sem, n } = kit;
    assert.equal(stats[0], 0);
    assert.ok(stats[1]! >= 1 && stats[1]! <= 2, `at most 2 inside at once, saw ${stats[1]}`);
    assert.equal(stats[2], 3 * n);
    assert.equal(sem.getValue(), 2);
  });

  test('a child passes the objects on to a grandchild, which maps the same memory', async () => {
    const v = ctx.Value('i', 0);
    const cells = ctx.Array('i', 4, { lock: false });
    const p = new ctx.Process({ target: w.spawnGrandchild, args: [v, cells] });
    assert.deepEqual(await runAll([p]), [0]);
    assert.equal(v.value, 10);
    assert.equal(cells[1], p.pid, "the grandchild's parent is the child");
    assert.ok(cells[0] !== p.pid && cells[0] !== process.pid && cells[0]! > 0);
    assert.equal(cells[2], 0, 'the grandchild exited with 0');
    assert.equal(cells[3], 1, 'the Array is a real Int32Array in the grandchild');
  });

  test("a process Pool's tasks get real memory: pool.map writes through an Array", async () => {
    const arr = ctx.Array('d', 8);
    await using pool = new ctx.Pool(2);
    const facts = await withDeadline(
      pool.map(
        w.poolSquare,
        Array.from({ length: 8 }, (_, i) => ({ arr, i })),
        1,
      ),
      60_000,
      'pool.map',
    );
    for (const f of facts) assert.deepEqual(f, { typed: true, shared: true, direct: true });
    assert.deepEqual([...arr], [0, 1, 4, 9, 16, 25, 36, 49]);
    pool.close();
    await withDeadline(pool.join(), 30_000, 'pool.join()');
  });

  test('a Lock sent as a Queue item still excludes this process while the child holds it', async () => {
    const q = new ctx.Queue<{ lock: mp.Lock; v: mp.SynchronizedValue<number> }>();
    const lock = new ctx.Lock();
    const v = ctx.Value('i', 0);
    const [held, release] = [new ctx.Event(), new ctx.Event()];
    const p = new ctx.Process({ target: w.holdLockFromQueue, args: [q, held, release] });
    await withProcesses([p], async () => {
      await q.put({ lock, v });
      assert.equal(await withDeadline(held.wait(60_000)), true);
      assert.equal(v.value, p.pid);
      assert.equal(lock.acquireSync({ block: false }), false);
      assert.equal(await lock.acquire({ timeout: 100 }), false);
      assert.equal(String(lock), '<Lock(owner=SomeOtherProcess)>');
      release.set();
      assert.equal(await withDeadline(lock.acquire({ timeout: 30_000 })), true);
      lock.release();
      assert.equal(await joined(p), 0);
    });
  });

  test('a Value and an Event sent in a Pipe message reach the same memory', async () => {
    const [mine, theirs] = ctx.Pipe<{ v: mp.SynchronizedValue<number>; done: mp.Event }>();
    const v = ctx.Value('i', 0);
    const done = new ctx.Event();
    const p = new ctx.Process({ target: w.relayFromPipe, args: [theirs] });
    await withProcesses([p], async () => {
      mine.send({ v, done });
      assert.equal(await withDeadline(done.wait(60_000)), true);
      assert.equal(v.value, 123);
      assert.equal(await joined(p), 0);
    });
    mine.close();
    theirs.close();
  });
});

describeMapped('hazards: a holder killed', () => {
  for (const kind of ['Lock', 'RLock'] as const) {
    test(`a child SIGKILLed holding a ${kind}: it stays held, by another process`, async () => {
      const lock = kind === 'Lock' ? new ctx.Lock() : new ctx.RLock();
      const held = new ctx.Event();
      const p = new ctx.Process({ target: w.holdForever, args: [lock, held] });
      await withProcesses([p], async () => {
        assert.equal(await withDeadline(held.wait(60_000)), true);
        p.kill();
        assert.equal(await joined(p), -9);
      });
      // As in Python: nothing releases a lock its holder died with; waits time out, not hang.
      assert.equal(await lock.acquire({ timeout: 200 }), false);
      assert.equal(lock.acquireSync({ timeout: 200 }), false);
      assert.equal(
        String(lock),
        kind === 'Lock' ? '<Lock(owner=SomeOtherProcess)>' : '<RLock(SomeOtherProcess, 1)>',
      );
      // Other primitives in the same memory are unaffected.
      const other = new ctx.Lock();
      assert.equal(await other.acquire({ timeout: 1000 }), true);
      other.release();
    });
  }
});

describeMapped('hazards: a creator ends', () => {
  test('an object whose creating child ended still works where it is mapped; a new receiver gets a clear error', async () => {
    const q = new ctx.Queue<mp.SynchronizedValue<number>>();
    const received = new ctx.Event();
    const creator = new ctx.Process({ target: w.createAndSend, args: [q, received] });
    const [toUser, report] = [new ctx.Queue<mp.SynchronizedValue<number>>(), new ctx.Queue<any>()];
    const user = new ctx.Process({ target: w.receiveOrReport, args: [toUser, report] });
    await withProcesses([creator, user], async () => {
      const v = await withDeadline(q.get(), 60_000, 'the child-made Value');
      received.set();
      assert.equal(await joined(creator), 0);
      // Mapped here before its creator ended: the memory lives as long as this mapping.
      v.value += 1;
      assert.equal(v.value, 8);
      // A process that never mapped it cannot reach it any more, and says so.
      await toUser.put(v);
      const got = await withDeadline(report.get(), 60_000, 'the report');
      assert.equal(got.code, 'ERR_SHARED_MEMORY_GONE', got.message);
      assert.ok(String(got.message).includes(String(creator.pid)), got.message);
      assert.equal(await joined(user), 0);
    });
  });
});

describeMapped('hazards: huge requests', () => {
  /** A clear refusal: an Error with one of the codes and a message naming the size. */
  function isRefusal(e: unknown, ...sizes: number[]): true {
    assert.ok(e instanceof Error, `an Error, got ${String(e)}`);
    const { code, message } = e as Error & { code?: unknown };
    assert.match(String(code), /^ERR_SHM_(TOO_LARGE|NO_SPACE)$/, message);
    assert.ok(
      sizes.some((s) => message.includes(String(s))),
      `the message names the size (${sizes.join(' or ')}): ${message}`,
    );
    return true;
  }

  test('RawArray, Array and SharedMemory beyond the machine fail clearly; the process goes on', async () => {
    const before = w.openMemfds().map((m) => m.fd);
    assert.throws(
      () => ctx.RawArray('d', 2 ** 40),
      (e) => isRefusal(e, 2 ** 40, 8 * 2 ** 40),
    );
    assert.throws(
      () => ctx.Array('d', 2 ** 40),
      (e) => isRefusal(e, 2 ** 40, 8 * 2 ** 40),
    );
    assert.throws(
      () => new ctx.SharedMemory({ create: true, size: 2 ** 45 }),
      (e) => isRefusal(e, 2 ** 45),
    );
    // Arenas of small buffers (the Array's lock) are 4 MiB files: a refused request's is bigger.
    const leaked = w.openMemfds().filter((m) => !before.includes(m.fd) && m.size > 4 << 20);
    assert.deepEqual(leaked, [], 'a refused request left a memfd open');
    // Nothing is left half-made: the process still allocates, shares and runs children.
    const after = ctx.RawArray('d', [1, 2, 3]);
    const v = ctx.Value('i', 0);
    const p = new ctx.Process({ target: w.lockedIncrements, args: [v, 100] });
    assert.deepEqual(await runAll([p]), [0]);
    assert.equal(v.value, 100);
    assert.deepEqual([...after], [1, 2, 3]);
  });

  test('over one mapping (4 GiB) but within memory: refused clearly, with nothing allocated left open', async () => {
    // In a child: should the refusal leak what it allocated, the leak ends with the child.
    const report = new ctx.Queue<any>();
    const name = `mp-test-huge-${process.pid}`;
    const p = new ctx.Process({ target: w.probeOverMappingLimit, args: [report, name] });
    const got = await withProcesses([p], async () => {
      const r = await withDeadline(report.get(), 60_000, 'the report');
      assert.equal(await joined(p), 0);
      return r;
    });
    const clear = (r: any): boolean =>
      /^ERR_SHM_(TOO_LARGE|NO_SPACE)$/.test(String(r.code)) &&
      String(r.message).includes(String(2 ** 32 + 1));
    const summary = (r: any): unknown => ({ clear: clear(r), leaked: r.leaked });
    // A refused block leaves no name behind: looking it up finds nothing.
    let lookup = 'found';
    try {
      new ctx.SharedMemory({ name }).unlink();
    } catch (e) {
      lookup = e instanceof mp.FileNotFoundError ? 'not found' : `${e}`;
    }
    assert.deepEqual(
      { RawArray: summary(got.RawArray), SharedMemory: summary(got.SharedMemory), lookup },
      {
        RawArray: { clear: true, leaked: [] },
        SharedMemory: { clear: true, leaked: [] },
        lookup: 'not found',
      },
      `refused clearly, nothing left allocated or named: ${JSON.stringify(got)}`,
    );
  });
});

describeMapped(
  'hazards: a program ends',
  () => {
    const kEnds = [
      { title: 'exits normally', mode: 'exit', signal: null },
      { title: 'is SIGTERMed mid-work', mode: 'hold', signal: 'SIGTERM' },
      { title: 'is SIGKILLed mid-work', mode: 'hold', signal: 'SIGKILL' },
    ] as const;
    let before = new Set<string>();
    const runs: Run[] = [];
    // Survivors are this file's descendants: end them by pid so they do not outlive it.
    const cleanUp = (): void => {
      for (const run of runs) {
        run.kill('SIGKILL');
        for (const pid of run.info?.pids ?? []) if (running(pid)) process.kill(pid, 'SIGKILL');
        // A signal runs no exit hook: the broker directory of a killed program is left to us.
        if (run.info?.broker) rmSync(run.info.broker, { recursive: true, force: true });
      }
    };
    // The three programs start together: they boot while the first one is checked.
    beforeAll(() => {
      before = shmEntries();
      for (const end of kEnds) runs.push(startProgram(end.mode));
      process.once('exit', cleanUp);
    });
    afterAll(cleanUp);
    kEnds.forEach((end, i) => {
      test(`a program on mapped memory ${end.title}: no process and no shared memory survive`, async () => {
        const run = runs[i]!;
        const info = await withDeadline(run.ready, 90_000, 'the program to be ready');
        assert.equal(info.mode, 'mapped');
        assert.equal(info.pids.length, 5, 'three children, a grandchild and a pool worker');
        assert.ok(info.count >= 1000, 'the spinning child was at work');
        assert.ok(info.memfds > 0, 'the program maps memfd segments');
        assert.deepEqual(survivorsOf(run).length, 5, 'every process of the program runs');
        if (end.signal) run.kill(end.signal);
        const { code, signal } = await withDeadline(run.exited, 60_000, 'the program to end');
        if (end.signal) assert.equal(signal, end.signal);
        else {
          assert.equal(code, 0, run.stderr());
          assert.equal(run.lines[1]?.done, true);
          if (info.broker)
            assert.equal(existsSync(info.broker), false, 'the broker directory is gone');
        }
        await pollUntil(() => survivorsOf(run).length === 0, 10_000);
        assert.deepEqual(survivorsOf(run), [], 'processes of the program survived it');
        const added = [...shmEntries()].filter((name) => !before.has(name));
        assert.deepEqual(added, [], '/dev/shm lists nothing new');
      });
    });
  },
  { concurrency: true }, // three programs, three processes: their waits overlap
);
