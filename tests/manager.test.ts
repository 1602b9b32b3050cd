// Managers in both contexts: lifecycle, data proxies, proxies travelling to workers, concurrency and shutdown (Python A.7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import * as mp from '../src/index.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import * as w from './fixtures/manager-workers.ts';
import { runScript } from './helpers/scripts.ts';

checkNoLeaks();

async function runAll(ctx: mp.Context, jobs: mp.ProcessOptions<any>[]): Promise<mp.Process[]> {
  const procs = jobs.map((options) => new ctx.Process(options));
  for (const p of procs) p.start();
  for (const p of procs) await withDeadline(p.join(), 60_000, `${p.name} to exit`);
  return procs;
}

/** The socket directory of a manager started with a private address. */
function socketDir(manager: mp.BaseManager): string {
  return dirname(manager.address!);
}

forEachContext('Manager', (ctx, _name, caps) => {
  test('Manager() starts a server; shutdown() stops it, is idempotent and removes the socket directory', async () => {
    const manager = await ctx.Manager();
    assert.ok(manager instanceof mp.SyncManager);
    const dir = socketDir(manager);
    assert.ok(existsSync(manager.address!), 'the socket exists while the server runs');
    assert.match(String(manager), /<SyncManager address=.* started>/);
    const d = await manager.dict<string, number>();
    await d.set('k', 1);
    await manager.shutdown();
    await manager.shutdown();
    assert.equal(existsSync(dir), false, 'the socket directory is removed');
    await assert.rejects(
      d.get('k'),
      (e: any) => e instanceof mp.InvalidStateError && e.code === 'ERR_CLOSED',
    );
    await assert.rejects(
      manager.dict(),
      (e: any) => e instanceof mp.InvalidStateError && e.code === 'ERR_CLOSED',
    );
    await assert.rejects(
      manager.start(),
      (e: any) => e instanceof mp.InvalidStateError && e.code === 'ERR_CLOSED',
    );
  });

  test('await using shuts the manager down at the end of the scope', async () => {
    let dir: string;
    let d: mp.DictProxy<string, number>;
    {
      await using manager = await ctx.Manager();
      dir = socketDir(manager);
      d = await manager.dict({ a: 1 });
      assert.equal(await d.get('a'), 1);
    }
    assert.equal(existsSync(dir), false);
    await assert.rejects(d.get('a'), { code: 'ERR_CLOSED' });
  });

  test('start() twice rejects; create() before start() rejects', async () => {
    const manager = new mp.SyncManager({ context: ctx });
    await assert.rejects(manager.dict(), { name: 'InvalidStateError', code: 'ERR_NOT_STARTED' });
    await manager.start();
    try {
      await assert.rejects(manager.start(), {
        name: 'InvalidStateError',
        code: 'ERR_ALREADY_STARTED',
      });
    } finally {
      await manager.shutdown();
    }
  });

  test('the server runs as SyncManager-N: a thread here, a child process there', async () => {
    class ProbeManager extends mp.SyncManager {}
    ProbeManager.register('Counter', w.Counter);
    await using manager = new ProbeManager({ context: ctx });
    await manager.start();
    const counter = (await manager.create('Counter')) as mp.AutoProxy<w.Counter>;
    const where = await counter.where();
    assert.match(where.name, /^ProbeManager-\d+$/);
    assert.equal(where.isMain, false);
    if (!caps.ownProcess) assert.equal(where.pid, process.pid);
    else assert.notEqual(where.pid, process.pid);
    // The server takes a child identity, as in Python: the next Process is numbered after it.
    const n = Number(where.name.split('-')[1]);
    const next = new ctx.Process({ target: () => {} });
    assert.equal(next.name, `Process-${n + 1}`);
  });

  test('dict proxy: every method of DESIGN §6', async () => {
    await using manager = await ctx.Manager();
    const d = await manager.dict<string, number>({ a: 1 });
    assert.ok(d instanceof mp.DictProxy);
    assert.equal(d.typeid, 'dict');
    assert.match(String(d), /^<DictProxy object, typeid 'dict' at \w+>$/);
    await d.set('b', 2);
    assert.equal(await d.get('b'), 2);
    assert.equal(await d.get('zz'), undefined);
    assert.equal(await d.get('zz', 5), 5);
    assert.equal(await d.has('a'), true);
    assert.deepEqual(await d.keys(), ['a', 'b']);
    assert.deepEqual(await d.values(), [1, 2]);
    assert.deepEqual(await d.entries(), [
      ['a', 1],
      ['b', 2],
    ]);
    assert.equal(await d.size(), 2);
    await d.update({ c: 3 });
    await d.update(new Map([['d', 4]]));
    assert.equal(await d.pop('d'), 4);
    assert.equal(await d.pop('d'), undefined);
    assert.equal(await d.pop('d', -1), -1);
    assert.equal(await d.setdefault('e', 5), 5);
    assert.equal(await d.setdefault('e', 6), 5);
    assert.equal(await d.delete('e'), true);
    assert.equal(await d.delete('e'), false);
    assert.deepEqual(await d.toObject(), { a: 1, b: 2, c: 3 });
    await d.clear();
    assert.equal(await d.size(), 0);
    const numeric = await manager.dict<number, string>(new Map([[1, 'one']]));
    assert.equal(await numeric.get(1), 'one');
    await assert.rejects(d.update(42 as any), TypeError);
    await assert.rejects(manager.dict(42 as any), TypeError);
  });

  test('list proxy: every method of DESIGN §6, with Python index errors as RangeError', async () => {
    await using manager = await ctx.Manager();
    const l = await manager.list<number>([1, 2, 3]);
    assert.ok(l instanceof mp.ListProxy);
    await l.append(4);
    await l.extend([5, 6]);
    await l.insert(0, 0);
    await l.insert(-100, -1);
    assert.deepEqual(await l.toArray(), [-1, 0, 1, 2, 3, 4, 5, 6]);
    assert.equal(await l.get(-1), 6);
    await l.set(-1, 60);
    assert.equal(await l.pop(), 60);
    assert.equal(await l.pop(0), -1);
    await l.remove(3);
    assert.equal(await l.index(4), 3);
    assert.equal(await l.length(), 5);
    await assert.rejects(l.get(10), RangeError);
    await assert.rejects(l.set(10, 1), RangeError);
    await assert.rejects(l.remove(42), RangeError);
    await assert.rejects(l.index(42), RangeError);
    await assert.rejects(l.get(1.5), TypeError);
    await l.clear();
    await assert.rejects(l.pop(), RangeError);
    const nested = await manager.list<{ x: number[] }>([{ x: [1] }]);
    assert.equal(await nested.index({ x: [1] }), 0, 'index compares by value, as Python ==');
    const fromSet = await manager.list(new Set(['a', 'b']));
    assert.deepEqual(await fromSet.toArray(), ['a', 'b']);
  });

  test('Namespace, Value and Array proxies', async () => {
    await using manager = await ctx.Manager();
    const ns = await manager.Namespace<{ x: number; y: string }>({ x: 1 });
    await ns.set('y', 'why');
    assert.equal(await ns.get('x'), 1);
    assert.deepEqual(await ns.toObject(), { x: 1, y: 'why' });
    assert.equal(await ns.delete('y'), true);
    const v = await manager.Value('i', 41);
    await v.set((await v.get()) + 1);
    assert.equal(await v.get(), 42);
    const anything = await manager.Value('i', 'not enforced, as Python');
    assert.equal(await anything.get(), 'not enforced, as Python');
    const a = await manager.Array('d', [0.5, 1.5]);
    await a.set(0, 2);
    assert.deepEqual(await a.toArray(), [2, 1.5]);
    assert.equal(await a.length(), 2);
    const big = await manager.Array('q', 3);
    await big.set(1, 5n);
    assert.deepEqual(await big.toArray(), [0n, 5n, 0n]);
    await assert.rejects(manager.Array('x' as any, 3), TypeError);
    await assert.rejects(a.get(5), RangeError);
  });

  test('an uncloneable argument rejects with DataCloneError naming the call; the connection survives', async () => {
    await using manager = await ctx.Manager();
    const d = await manager.dict<string, unknown>();
    await assert.rejects(
      d.set('f', () => 1),
      (e: any) => e instanceof mp.DataCloneError && /dict\.set\(\)/.test(e.message),
    );
    await d.set('ok', 1);
    assert.equal(await d.get('ok'), 1);
  });

  test('nested proxies: a proxy stored in a dict comes back as a working proxy', async () => {
    await using manager = await ctx.Manager();
    const d = await manager.dict<string, mp.ListProxy<number>>();
    const l = await manager.list<number>([1]);
    await d.set('inner', l);
    const back = (await d.get('inner'))!;
    assert.ok(back instanceof mp.ListProxy);
    assert.equal(back.id, l.id);
    await back.append(2);
    assert.deepEqual(await l.toArray(), [1, 2]);
  });

  test('the pitfall: a nested plain object changed in place is not written back; assign it back', async () => {
    await using manager = await ctx.Manager();
    const d = await manager.dict<string, { tags: string[] }>({ item: { tags: [] } });
    const item = (await d.get('item'))!;
    item.tags.push('lost');
    assert.deepEqual((await d.get('item'))!.tags, [], 'the change stayed in the local copy');
    await d.set('item', item);
    assert.deepEqual((await d.get('item'))!.tags, ['lost'], 'assigned back');
    const ns = await manager.Namespace({ config: { level: 1 } });
    const [p] = await runAll(ctx, [{ target: w.nestedUpdate, args: [ns] }]);
    assert.equal(p!.exitCode, 0);
    assert.deepEqual(await ns.get('config'), { level: 7 });
  });

  test('the seed pattern: ten workers each add their result into one managed dict', async () => {
    await using manager = await ctx.Manager();
    const results = await manager.dict<number, number>();
    const procs = await runAll(
      ctx,
      Array.from({ length: 10 }, (_, i) => ({ target: w.addSquare, args: [results, i] })),
    );
    assert.deepEqual(
      procs.map((p) => p.exitCode),
      Array(10).fill(0),
    );
    const entries = (await results.entries()).sort(([a], [b]) => a - b);
    assert.deepEqual(
      entries,
      Array.from({ length: 10 }, (_, i) => [i, i * i]),
    );
  });

  test('concurrent read-modify-write under a manager Lock from four workers: the count is exact', async () => {
    await using manager = await ctx.Manager();
    const d = await manager.dict<string, number>({ n: 0 });
    const lock = await manager.Lock();
    const procs = await runAll(
      ctx,
      Array.from({ length: 4 }, () => ({ target: w.incrementUnderLock, args: [d, lock, 'n', 25] })),
    );
    assert.deepEqual(
      procs.map((p) => p.exitCode),
      [0, 0, 0, 0],
    );
    assert.equal(await d.get('n'), 100);
  });

  test('pipelined appends from four workers and the parent at once: nothing is lost', async () => {
    await using manager = await ctx.Manager();
    const l = await manager.list<string>();
    const procs = runAll(
      ctx,
      ['a', 'b', 'c', 'd'].map((tag) => ({ target: w.appendMany, args: [l, tag, 100] })),
    );
    await w.appendMany(l, 'parent', 100);
    assert.deepEqual(
      (await procs).map((p) => p.exitCode),
      [0, 0, 0, 0],
    );
    const items = await l.toArray();
    assert.equal(items.length, 500);
    assert.equal(new Set(items).size, 500);
  });

  test('proxies travel inside Pool task arguments', async () => {
    await using manager = await ctx.Manager();
    const results = await manager.dict<number, number>();
    await using pool = new ctx.Pool(2);
    // One task per item: a map chunk repeating one proxy needs decode() to revive repeated
    // handles (reduction/values.ts returns the raw handle on its second visit).
    const names = await Promise.all(
      Array.from({ length: 10 }, (_, i) => pool.apply(w.poolSquare, [[results, i]])),
    );
    assert.equal(names.length, 10);
    assert.ok(names.every((n) => /^PoolWorker-/.test(n)));
    assert.equal(await results.size(), 10);
    assert.equal(await results.get(9), 81);
  });

  test('shutdown while workers hold proxies: their calls, pending or new, fail with ERR_CLOSED', async () => {
    const manager = await ctx.Manager();
    const d = await manager.dict<string, number>({ k: 1 });
    const q = await manager.Queue<number>();
    const readyA = await manager.Event();
    const readyB = await manager.Event();
    const busy = new ctx.Process({ target: w.callUntilClosed, args: [d, readyA] });
    const blocked = new ctx.Process({ target: w.blockUntilClosed, args: [q, readyB] });
    busy.start();
    blocked.start();
    assert.equal(await withDeadline(readyA.wait(), 30_000, 'the busy worker'), true);
    assert.equal(await withDeadline(readyB.wait(), 30_000, 'the blocked worker'), true);
    // A get blocked in the parent too; its rejection is observed from the start.
    const pending = assert.rejects(q.get(), { code: 'ERR_CLOSED' });
    await manager.shutdown();
    await pending;
    await withDeadline(
      Promise.all([busy.join(), blocked.join()]),
      30_000,
      'workers to see the shutdown',
    );
    assert.equal(busy.exitCode, 0, 'the busy worker saw ERR_CLOSED');
    assert.equal(blocked.exitCode, 0, 'the blocked worker saw ERR_CLOSED');
  });

  test('a manager context option and a bad one', async () => {
    assert.throws(() => new mp.SyncManager({ context: 'cluster' as any }), TypeError);
    assert.throws(() => new mp.SyncManager({ authkey: 'secret' as any }), TypeError);
    assert.throws(() => new mp.SyncManager(42 as any), TypeError);
  });
});

forEachContext('Manager lifetime', (_ctx, method) => {
  test('a forgotten manager does not keep the program alive and leaves no socket directory', async () => {
    const r = await runScript('fixtures/manager-program-forgotten.ts', [method], 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /answer=42/);
    const dir = /dir=(.*)/.exec(r.stdout)![1]!;
    assert.equal(existsSync(dir), false, 'removed at exit');
  });
});

forEachContext('Manager errors in the entry module', (_ctx, method) => {
  test("an error class of the program's entry module arrives by name during its top-level await", async () => {
    const r = await runScript('fixtures/manager-program-main-error.ts', [method], 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /caught Refused: the gate stays shut/);
  });
});
