// Process in both contexts: names, states, exit codes, errors, options and lifecycle (Python A.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import * as t from './fixtures/process-targets.ts';

checkNoLeaks();

async function run(ctx: mp.Context, options: mp.ProcessOptions<any>): Promise<mp.Process> {
  const p = new ctx.Process(options);
  p.start();
  await withDeadline(p.join(), 30_000, `${p.name} to exit`);
  return p;
}

forEachContext('Process', (ctx, _name, caps) => {
  test('exit codes: 0 on return, 1 on throw, n on process.exit(n), 1 on async rejection', async () => {
    assert.equal((await run(ctx, { target: () => 1 })).exitCode, 0);
    assert.equal((await run(ctx, { target: t.throwsTypeError, args: ['boom'] })).exitCode, 1);
    assert.equal((await run(ctx, { target: t.exitWith, args: [7] })).exitCode, 7);
    assert.equal((await run(ctx, { target: t.rejectsLater })).exitCode, 1);
  });

  test('async targets are awaited', async () => {
    assert.equal((await run(ctx, { target: t.exitLater, args: [4] })).exitCode, 4);
  });

  test('terminate() gives -15 and kill() gives -9; both are no-ops once ended', async () => {
    const p = new ctx.Process({ target: t.forever });
    p.start();
    await p.join(20);
    assert.equal(p.isAlive(), true, 'join(timeout) returns while the process is alive');
    assert.equal(p.exitCode, null);
    p.terminate();
    await withDeadline(p.join());
    assert.equal(p.exitCode, -15);
    assert.equal(p.isAlive(), false);
    p.kill();
    assert.equal(p.exitCode, -15, 'exit code unchanged by kill() after death');
    const q = new ctx.Process({ target: t.forever });
    q.start();
    q.kill();
    await withDeadline(q.join());
    assert.equal(q.exitCode, -9);
    assert.match(String(q), /stopped exitcode=-SIGKILL/);
  });

  test('names: Process-N from a counter advanced at construction, custom names, repr', () => {
    const a = new ctx.Process();
    const b = new ctx.Process();
    const na = Number(a.name.split('-')[1]);
    assert.match(a.name, /^Process-\d+$/);
    assert.equal(b.name, `Process-${na + 1}`);
    const c = new ctx.Process({ name: 'worker-x' });
    assert.equal(c.name, 'worker-x');
    c.name = 'renamed';
    assert.equal(c.name, 'renamed');
    assert.throws(() => (c.name = 5 as never), TypeError);
    assert.match(String(a), /^<Process name='Process-\d+' parent=\d+ initial>$/);
  });

  test('state errors: start twice, join before start, close while running, closed object', async () => {
    const p = new ctx.Process({ target: t.forever });
    await assert.rejects(p.join(), { name: 'InvalidStateError', code: 'ERR_NOT_STARTED' });
    assert.throws(() => p.sentinel, { code: 'ERR_NOT_STARTED' });
    assert.throws(() => p.terminate(), { code: 'ERR_NOT_STARTED' });
    assert.equal(p.pid, undefined);
    assert.equal(p.isAlive(), false);
    p.start();
    assert.throws(
      () => p.start(),
      (e: unknown) => e instanceof mp.InvalidStateError && e.code === 'ERR_ALREADY_STARTED',
    );
    assert.throws(() => (p.daemon = true), { code: 'ERR_ALREADY_STARTED' });
    assert.throws(() => p.close(), { code: 'ERR_STILL_RUNNING' });
    assert.equal(typeof p.pid, 'number');
    if (!caps.ownProcess) assert.equal(p.pid, process.pid);
    else assert.notEqual(p.pid, process.pid);
    assert.ok(mp.activeChildren().includes(p));
    p.terminate();
    await withDeadline(p.sentinel);
    assert.ok(!mp.activeChildren().includes(p));
    p.close();
    p.close();
    assert.equal(p.name.startsWith('Process-'), true, 'name stays readable');
    for (const use of [
      () => p.isAlive(),
      () => p.exitCode,
      () => p.pid,
      () => p.sentinel,
      () => p.terminate(),
      () => p.kill(),
      () => p.start(),
    ]) {
      assert.throws(use, {
        name: 'InvalidStateError',
        code: 'ERR_CLOSED',
        message: 'process object is closed',
      });
    }
    await assert.rejects(p.join(), { code: 'ERR_CLOSED' });
    assert.match(String(p), /closed>$/);
  });

  test('join(timeout) in ms: 0 and negative return at once; join can be repeated', async () => {
    const p = new ctx.Process({ target: t.forever });
    p.start();
    await p.join(0);
    await p.join(-5);
    assert.equal(p.isAlive(), true);
    p.kill();
    await withDeadline(p.join());
    await p.join();
    await p.join(10);
    assert.equal(p.exitCode, -9);
  });

  test('module functions, aliased exports and subclasses travel', async () => {
    assert.equal((await run(ctx, { target: t.scaled, args: [5] })).exitCode, 15);
    assert.equal((await run(ctx, { target: t.renamed, args: [2] })).exitCode, 5);
    const sub = new t.ExitingProcess();
    sub.code = 7;
    sub.extra = [1, 2];
    assert.match(sub.name, /^ExitingProcess-\d+$/);
    sub.start();
    await withDeadline(sub.join());
    assert.equal(sub.exitCode, 109, 'fields cloned, name kept, run() called');
  });

  test('options: env, execArgv, resourceLimits', async () => {
    assert.equal(
      (
        await run(ctx, {
          target: t.checkEnv,
          args: ['MP_TEST_VAR', 'yes'],
          env: { ...process.env, MP_TEST_VAR: 'yes' },
        })
      ).exitCode,
      0,
    );
    assert.equal(
      (
        await run(ctx, {
          target: t.checkExecArgv,
          args: ['--no-deprecation'],
          execArgv: ['--no-deprecation'],
        })
      ).exitCode,
      0,
    );
    assert.equal(
      (
        await run(ctx, {
          target: t.checkHeapBelow,
          args: [400],
          resourceLimits: { maxOldGenerationSizeMb: 96 },
        })
      ).exitCode,
      0,
    );
  });

  test('daemon: inherited false in main, settable before start, a daemon cannot start children', async () => {
    const p = new ctx.Process({ target: t.describeSelf });
    assert.equal(p.daemon, false);
    p.daemon = true;
    p.start();
    await withDeadline(p.join());
    assert.equal(p.exitCode, 11, 'worker sees daemon=true and isMainProcess()=false');
    assert.equal((await run(ctx, { target: t.startChild, daemon: true })).exitCode, 0);
    assert.equal((await run(ctx, { target: t.describeSelf })).exitCode, 10);
  });

  test('bad arguments throw TypeError naming the argument', () => {
    assert.throws(() => new ctx.Process({ target: 5 as never }), {
      name: 'TypeError',
      message: /`target`.*got 5 \(number\)/,
    });
    assert.throws(() => new ctx.Process({ args: 'x' as never }), {
      name: 'TypeError',
      message: /`args`/,
    });
    assert.throws(() => new ctx.Process({ daemon: 'yes' as never }), {
      name: 'TypeError',
      message: /`daemon`/,
    });
    assert.throws(() => new ctx.Process({ name: 1 as never }), {
      name: 'TypeError',
      message: /`name`/,
    });
    assert.throws(() => new ctx.Process(7 as never), { name: 'TypeError', message: /`options`/ });
    assert.throws(() => new ctx.Process({ execArgv: [1] as never }), {
      name: 'TypeError',
      message: /`execArgv`/,
    });
  });

  test('uncloneable arguments throw DataCloneError naming the position', () => {
    const p = new ctx.Process({ target: (a: number, _b: unknown) => a, args: [1, () => 2] });
    assert.throws(
      () => p.start(),
      (e: unknown) => e instanceof mp.DataCloneError && /argument 1/.test((e as Error).message),
    );
    assert.equal(p.isAlive(), false);
  });

  test('functions that cannot travel throw PicklingError from start()', () => {
    const bound = t.exitWith.bind(null, 1);
    assert.throws(() => new ctx.Process({ target: bound }).start(), {
      name: 'PicklingError',
      message: /bound function/,
    });
    assert.throws(() => new ctx.Process({ target: String.prototype.trim as never }).start(), {
      name: 'PicklingError',
      message: /native function/,
    });
    assert.throws(() => new ctx.Process({ target: class X {} as never }).start(), {
      name: 'PicklingError',
      message: /class constructor/,
    });
  });

  test('currentProcess/parentProcess in the main process, cpuCount', () => {
    assert.equal(mp.currentProcess().name, 'MainProcess');
    assert.equal(mp.currentProcess().pid, process.pid);
    assert.equal(mp.currentProcess().isAlive(), true);
    assert.equal(mp.parentProcess(), null);
    assert.equal(mp.isMainProcess(), true);
    assert.ok(Number.isInteger(mp.cpuCount()) && mp.cpuCount() >= 1);
  });
});
