// Acceptance: Pool and Process used as a Python developer would, in both contexts; each test pins a defect found by running user programs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import type { ScriptResult } from './helpers/scripts.ts';

checkNoLeaks();

const kRepo = new URL('..', import.meta.url);
const kLibraryUrl = new URL('src/index.ts', kRepo).href;

/**
 * Writes `body` as a user program in a directory of its own (importing the library as `mp`),
 * runs it under tsx in a fresh Node, and collects its exit code and output.
 */
async function runProgram(body: string, args: string[]): Promise<ScriptResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-accept-'));
  try {
    const file = join(dir, 'program.ts');
    writeFileSync(file, `import * as mp from ${JSON.stringify(kLibraryUrl)};\n${body}\n`);
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    return await new Promise<ScriptResult>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', file, ...args],
        { cwd: fileURLToPath(kRepo), timeout: 60_000, killSignal: 'SIGKILL' },
        (error, stdout, stderr) => {
          if ((error as { killed?: boolean } | null)?.killed) {
            reject(
              new Error(`the program did not exit in time\nstdout: ${stdout}\nstderr: ${stderr}`),
            );
            return;
          }
          const code = (error as { code?: unknown } | null)?.code;
          resolve({
            code: error ? (typeof code === 'number' ? code : null) : 0,
            signal: (error as { signal?: NodeJS.Signals } | null)?.signal ?? null,
            stdout,
            stderr,
          });
        },
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

forEachContext('acceptance: Process', (ctx, method) => {
  test('await join() on a daemonic process keeps the program alive until it ends', async () => {
    const result = await runProgram(
      `export async function slow(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  console.log('daemon done');
}
if (mp.isMainProcess()) {
  const ctx = mp.getContext(process.argv[2] as 'thread' | 'process');
  const p = new ctx.Process({ target: slow, daemon: true });
  p.start();
  await p.join();
  console.log('joined', p.exitCode);
  const q = new ctx.Process({ target: slow, daemon: true });
  q.start();
  await q.join(60_000);
  console.log('joined with timeout', q.exitCode);
}`,
      [method],
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'daemon done\njoined 0\ndaemon done\njoined with timeout 0\n');
  });
});

/** Asserts a TypeError with code ERR_INVALID_ARG_VALUE whose message matches `pattern`. */
function unknownOption(pattern: RegExp): (e: unknown) => boolean {
  return (e) =>
    e instanceof TypeError &&
    (e as { code?: string }).code === 'ERR_INVALID_ARG_VALUE' &&
    pattern.test(e.message);
}

forEachContext('acceptance: wait', (ctx) => {
  test('wait() takes process sentinels, as Python does, beside processes', async () => {
    const quick = new ctx.Process({ target: () => {} });
    const slow = new ctx.Process({
      target: () => new Promise<void>((resolve) => setTimeout(resolve, 60_000)),
      daemon: true,
    });
    quick.start();
    slow.start();
    try {
      const ready = await withDeadline(ctx.wait([slow.sentinel, quick.sentinel]));
      assert.deepEqual(ready, [quick.sentinel]);
      assert.deepEqual(await ctx.wait([slow, slow.sentinel], 0), []);
      await assert.rejects(ctx.wait([42 as never]), { code: 'ERR_INVALID_ARG_TYPE' });
    } finally {
      slow.kill();
      await withDeadline(slow.join());
      await withDeadline(quick.join());
    }
  });
});

forEachContext('acceptance: Process targets', (ctx, method) => {
  test('a target whose promise can never settle ends with exit code 13 and says why', async () => {
    const result = await runProgram(
      `if (mp.isMainProcess()) {
  const ctx = mp.getContext(process.argv[2] as 'thread' | 'process');
  const p = new ctx.Process({ target: () => new Promise(() => {}), name: 'Stuck' });
  p.start();
  await p.join();
  console.log('exit', p.exitCode);
}`,
      [method],
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'exit 13\n');
    assert.match(
      result.stderr,
      /^Process Stuck:\nError: the target returned a promise that never settled/m,
    );
  });
});

forEachContext('acceptance: options', (ctx) => {
  test('unknown or Python-spelt options are rejected, not silently ignored', async () => {
    assert.throws(
      () => new ctx.Process({ target: () => 1, kwargs: { a: 1 } } as never),
      unknownOption(/`kwargs`.*no keyword arguments/),
    );
    assert.throws(
      () => new ctx.Pool({ processes: 1, maxtasksperchild: 2 } as never),
      unknownOption(/`maxtasksperchild`.*did you mean `maxTasksPerChild`/),
    );
    const pool = new ctx.Pool(1);
    try {
      const square = (x: number) => x * x;
      await assert.rejects(
        pool.map(square, [1, 2], { chunkSize: 1 } as never),
        unknownOption(/did you mean `chunksize`/),
      );
      await assert.rejects(
        pool.apply(square, [2], { error_callback: () => {} } as never),
        unknownOption(/`error_callback`/),
      );
      assert.throws(
        () => pool.applyAsync(square, [2], { error_callback: () => {} } as never),
        unknownOption(/did you mean `errorCallback`/),
      );
      assert.throws(
        () => pool.imap(square, [1], { callback: () => {} } as never),
        unknownOption(/`callback`/),
      );
      // What each method documents still passes, and undefined values (spread defaults) are fine.
      const results = await pool.mapAsync(square, [1, 2], {
        chunksize: 1,
        callback: () => {},
        errorCallback: undefined,
      });
      assert.deepEqual(results, [1, 4]);
      assert.equal(await pool.apply(square, [3], { timeout: 10_000, signal: undefined }), 9);
    } finally {
      pool.close();
      await withDeadline(pool.join());
    }
  });
});

forEachContext('acceptance: PicklingError', (ctx, method) => {
  test('a closure names its position in the .ts source and fixes that work for imports too', async () => {
    const result = await runProgram(
      `import { basename } from 'node:path';
if (mp.isMainProcess()) {
  const ctx = mp.getContext(process.argv[2] as 'thread' | 'process');
  const pool = new ctx.Pool(1);
  const k = 3;
  for (const fn of [(x: number) => x * k, (s: string) => basename(s)]) {
    try {
      await pool.map(fn as (x: unknown) => unknown, [1]);
    } catch (e) {
      console.log(\`\${(e as Error).name}: \${(e as Error).message}\`);
    }
  }
  const p = new ctx.Process({ target: (x: number) => x * k, args: [1] });
  p.start();
  await p.join();
  pool.close();
  await pool.join();
}`,
      [method],
    );
    assert.equal(result.code, 0, result.stderr);
    const [closure, usesImport] = result.stdout.trim().split('\n');
    assert.match(
      closure!,
      /^PicklingError: Cannot send an anonymous function \(defined in file:.*program\.ts\) to a worker: it uses `k`, which a worker cannot see, and it is not a top-level export of its module \(it is defined at line 7, column \d+\)/,
    );
    assert.match(closure!, /as an exported function .*or pass `k` as arguments/);
    assert.match(
      usesImport!,
      /it uses `basename`.*defined at line 7, column \d+\).*may use the module's imports/,
    );
    assert.match(
      result.stderr,
      /Process Process-\d+:\nPicklingError: Cannot send `target` \(defined in file:.*program\.ts\).*\(it is defined at line 14, column \d+\).*\(`export const target = …`\)/,
    );
  });
});

forEachContext('acceptance: errors from tasks', (ctx) => {
  test('an AggregateError comes back as itself, with its errors', async () => {
    const pool = new ctx.Pool(1);
    try {
      const fails = () => {
        throw new AggregateError([new TypeError('first'), 'second'], 'both failed');
      };
      const error = await pool.apply(fails).then(
        () => assert.fail('the task should have failed'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof AggregateError, `got ${String(error)}`);
      assert.equal(error.message, 'both failed');
      assert.equal(error.errors.length, 2);
      assert.ok(error.errors[0] instanceof TypeError);
      assert.equal((error.errors[0] as TypeError).message, 'first');
      assert.equal(error.errors[1], 'second');
    } finally {
      pool.close();
      await withDeadline(pool.join());
    }
  });
});

forEachContext('acceptance: built-in functions', (ctx) => {
  test('built-ins travel by their global path, as Python pickles math.sqrt by name', async () => {
    await withDeadline(
      (async () => {
        const pool = new ctx.Pool(2);
        try {
          assert.deepEqual(await pool.map(Math.sqrt, [1, 4, 9]), [1, 2, 3]);
          assert.deepEqual(await pool.map(String, [1, 2]), ['1', '2']);
          assert.deepEqual(
            await pool.starmap(Math.max, [
              [1, 5],
              [7, 2],
            ]),
            [5, 7],
          );
          assert.deepEqual(await pool.map(JSON.stringify, [{ a: 1 }]), ['{"a":1}']);
          assert.deepEqual(await pool.map(Number.isInteger, [1, 1.5]), [true, false]);
          // A native method that needs its `this` has no such path.
          await assert.rejects(pool.map(String.prototype.trim as (s: string) => string, [' x ']), {
            name: 'PicklingError',
            message: /`trim`.*native function that is not a global/,
          });
        } finally {
          await pool.terminate();
        }
      })(),
    );
  });
});
