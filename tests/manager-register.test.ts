// BaseManager.register in both contexts: user classes as async proxies, their errors, exposure, connect() and authentication.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import * as mp from '../src/index.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import * as w from './fixtures/manager-workers.ts';

checkNoLeaks();

async function started(ctx: mp.Context): Promise<w.CounterManager> {
  const manager = new w.CounterManager({ context: ctx });
  await manager.start();
  return manager;
}

forEachContext('BaseManager.register', (ctx) => {
  test("a registered class's public methods become async proxy methods", async () => {
    await using manager = await started(ctx);
    const counter = await manager.Counter(10);
    assert.ok(counter instanceof mp.BaseProxy);
    assert.equal(counter.typeid, 'Counter');
    assert.match(String(counter), /^<AutoProxy object, typeid 'Counter' at \w+>$/);
    assert.equal(await counter.increment(), 11);
    assert.equal(await counter.increment(5), 16);
    assert.equal(await counter.value(), 16);
    assert.equal(await counter.slowValue(), 16, 'async methods are awaited in the server');
    assert.equal((counter as any)._hidden, undefined, 'names starting with _ are not exposed');
    await assert.rejects(counter.callMethod('_hidden'), mp.RemoteError);
    await assert.rejects(
      counter.callMethod('nope'),
      (e: any) => e instanceof mp.RemoteError && /not exposed/.test(e.message),
    );
  });

  test('a function factory works too; create(typeid) is the generic form', async () => {
    await using manager = await started(ctx);
    const tally = await manager.Tally('t');
    assert.equal(await tally.add(2), 2);
    assert.equal(await tally.add(3), 5);
    const again = await manager.create<w.Counter>('Counter');
    assert.equal(await again.increment(), 1);
    await assert.rejects(manager.create('Missing'), TypeError);
  });

  test('`exposed` narrows what proxies may call', async () => {
    await using manager = await started(ctx);
    const narrow = await manager.Narrow();
    assert.equal(await narrow.value(), 0);
    assert.equal((narrow as any).increment, undefined);
    await assert.rejects(narrow.callMethod('increment'), mp.RemoteError);
  });

  test('errors thrown in the server arrive with their class or name, message and remote stack', async () => {
    await using manager = await started(ctx);
    const counter = await manager.Counter(3);
    await assert.rejects(counter.failType(), (e: any) => {
      assert.ok(e instanceof TypeError, 'a built-in class is rebuilt as itself');
      assert.equal(e.message, 'not a number');
      assert.ok(e.cause instanceof mp.RemoteTraceback);
      assert.match(e.cause.tb, /failType/);
      return true;
    });
    await assert.rejects(counter.failCustom(), (e: any) => {
      assert.ok(e instanceof w.CounterError, "an exported user's class is rebuilt as itself");
      assert.equal(e.name, 'CounterError');
      assert.equal(e.message, 'counter refused at 3');
      assert.ok(e.cause instanceof mp.RemoteTraceback);
      assert.match(e.cause.tb, /CounterError: counter refused at 3[\s\S]*failCustom/);
      return true;
    });
    await assert.rejects(counter.failHidden(), (e: any) => {
      assert.ok(e instanceof Error);
      assert.equal(e.name, 'HiddenError', 'a class that cannot be imported arrives by name');
      assert.equal(e.message, 'from a class nobody can import');
      assert.ok(e.cause instanceof mp.RemoteTraceback);
      return true;
    });
    assert.equal(await counter.value(), 3, 'the connection still works after errors');
  });

  test('atomic server-side methods from four workers: the count is exact', async () => {
    await using manager = await started(ctx);
    const counter = await manager.Counter();
    const procs = [0, 1, 2, 3].map(
      () => new ctx.Process({ target: w.bumpCounter, args: [counter, 50] }),
    );
    for (const p of procs) p.start();
    for (const p of procs) await withDeadline(p.join(), 60_000);
    assert.deepEqual(
      procs.map((p) => p.exitCode),
      [0, 0, 0, 0],
    );
    assert.equal(await counter.value(), 200);
  });

  test('connect(): another manager object reaches the same server; a wrong authkey is rejected', async () => {
    await using manager = await started(ctx);
    const counter = await manager.Counter();
    await counter.increment();
    const client = new w.CounterManager({ address: manager.address!, authkey: manager.authkey });
    await client.connect();
    const other = await client.Counter(100);
    assert.equal(await other.value(), 100);
    await client.shutdown(); // a connected client only forgets its connection
    const intruder = new w.CounterManager({
      address: manager.address!,
      authkey: Buffer.from('wrong'),
    });
    await assert.rejects(
      intruder.connect(),
      (e: any) => e instanceof mp.AuthenticationError && e.code === 'ERR_AUTHENTICATION',
    );
    assert.equal(await counter.value(), 1, 'the server is unaffected');
    await assert.rejects(new mp.BaseManager().connect(), { code: 'ERR_NOT_STARTED' });
  });

  test('start({ initializer }) runs in the server; a throwing initializer fails start() and leaves nothing', async () => {
    const manager = new w.CounterManager({ context: ctx });
    await assert.rejects(
      manager.start({
        initializer: () => {
          throw new RangeError('bad init');
        },
      }),
      RangeError,
    );
    assert.equal(existsSync(dirname(manager.address!)), false);
    await assert.rejects(manager.start(), { code: 'ERR_CLOSED' });
    await using ok = new w.CounterManager({ context: ctx });
    await ok.start({
      initializer: (x: number) => {
        (globalThis as any).__init = x;
      },
      initargs: [1],
    });
    await assert.rejects(ok.start({ initializer: 42 as any }), { code: 'ERR_ALREADY_STARTED' });
    const bad = new w.CounterManager({ context: ctx });
    await assert.rejects(
      bad.start({ initializer: (f: unknown) => f, initargs: [() => 1] }),
      mp.DataCloneError,
    );
    assert.equal(bad.address, null, 'nothing was created');
  });

  test('register: validation, PicklingError for closures, one registry per class', async () => {
    class Local extends mp.BaseManager {}
    assert.throws(() => Local.register('not an id', w.Counter), TypeError);
    assert.throws(() => Local.register('Bad', w.makeTally.bind(null)), mp.PicklingError);
    Local.register('Tally', w.makeTally);
    assert.equal(typeof (Local.prototype as any).Tally, 'function');
    assert.equal(
      (mp.BaseManager.prototype as any).Tally,
      undefined,
      'the parent class is untouched',
    );
    assert.equal((mp.SyncManager.prototype as any).Tally, undefined);
    await using manager = new Local({ context: ctx });
    await manager.start();
    await assert.rejects(manager.create('Counter'), TypeError, 'not registered on this class');
    const tally = (await manager.create('Tally', 'x')) as mp.AutoProxy<
      ReturnType<typeof w.makeTally>
    >;
    assert.equal(await tally.add(1), 1);
  });
});
