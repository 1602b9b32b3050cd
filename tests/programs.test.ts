// Whole programs in a fresh Node: nesting, the bootstrap guard, function travel errors, exit behaviour, logging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kContexts, waitUntil } from './helpers/contexts.ts';
import { runScript } from './helpers/scripts.ts';

/** Whether a process id no longer names a running process. */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as { code?: string }).code === 'ESRCH';
  }
}

for (const method of kContexts) {
  test(`[${method}] nested processes are named Process-1:1 and know their parents`, async () => {
    const r = await runScript('fixtures/program-nested.ts', [method]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /outer name=Process-1 parent=MainProcess parentAlive=true/);
    assert.match(r.stdout, /child name=Process-1:1/);
    assert.match(r.stdout, /inner name=Process-1:1 parent=Process-1 main=false/);
    assert.match(r.stdout, /child exit=0/);
    assert.match(r.stdout, /outer exit=0/);
  });

  test(`[${method}] an unguarded module that starts a process while a worker imports it gets BootstrapError`, async () => {
    const r = await runScript('fixtures/program-unguarded.ts', [method]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /exit=1/);
    assert.doesNotMatch(r.stdout, /target ran/);
    assert.match(
      r.stderr,
      /Process Process-1:\n\S*BootstrapError: An attempt has been made to start a new process before/,
    );
    assert.match(r.stderr, /if \(mp\.isMainProcess\(\)\)/);
  });

  test(`[${method}] closures that capture locals fail with a PicklingError naming them; refs and arrows travel`, async () => {
    const r = await runScript('fixtures/program-closure.ts', [method]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^exit=1$/m);
    assert.match(
      r.stderr,
      /PicklingError: Cannot send `usesSecret` \(defined in file:.*program-closure\.ts\) to a worker: it uses `secret`/,
    );
    assert.match(r.stderr, /export `usesSecret`.*or pass `secret` as arguments/);
    assert.match(r.stdout, /arrow got 5/);
    assert.match(r.stdout, /ref exit=6/);
    assert.match(r.stdout, /missing exit=1/);
    assert.match(r.stderr, /no exported function `missing`/);
  });

  test(`[${method}] a running non-daemonic child keeps the program alive until it ends`, async () => {
    const r = await runScript('fixtures/program-lifecycle.ts', ['non-daemon', method]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'main done\nchild finished\n');
  });

  test(`[${method}] a daemonic child neither keeps the program alive nor survives it`, async () => {
    const r = await runScript('fixtures/program-lifecycle.ts', ['daemon', method], 20_000);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(/daemon pid=(\d+)/.exec(r.stdout)?.[1]);
    assert.ok(pid > 0);
    await waitUntil(() => gone(pid), 10_000, 'the daemon to be gone');
  });

  test(`[${method}] a finished child does not keep the program alive`, async () => {
    const r = await runScript('fixtures/program-lifecycle.ts', ['finished', method], 20_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'joined\n');
  });

  test(`[${method}] process.exit() in the parent terminates running children`, async () => {
    const r = await runScript('fixtures/program-lifecycle.ts', ['exit', method], 20_000);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(/child pid=(\d+)/.exec(r.stdout)?.[1]);
    await waitUntil(() => gone(pid), 10_000, 'the child to be gone');
  });

  test(`[${method}] logToStderr prints [LEVEL/name] in the parent and in workers; errors print "Process <name>:"`, async () => {
    const r = await runScript('fixtures/program-logging.ts', [method, 'INFO']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^\[INFO\/MainProcess\] hello from main$/m);
    assert.match(r.stderr, /^\[INFO\/Logger-1\] hello from the worker$/m);
    assert.doesNotMatch(r.stderr, /not shown at INFO/);
    assert.match(r.stderr, /^Process Failing-1:\nRangeError: worker failure\n\s+at fails/m);
    assert.match(r.stdout, /exit=1/);
  });

  test(`[${method}] at DEBUG the library logs worker start and exit`, async () => {
    const r = await runScript('fixtures/program-logging.ts', [method, 'DEBUG']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[DEBUG\/MainProcess\] started Logger-1/);
    assert.match(r.stderr, /\[DEBUG\/Logger-1\] child process calling self\.run\(\)/);
    assert.match(r.stderr, /\[DEBUG\/MainProcess\] Logger-1 exited with exitcode 0/);
  });

  test(`[${method}] what pool tasks print reaches the terminal even when the pool is terminated at once`, async () => {
    const r = await runScript('fixtures/program-pool-output.ts', [method]);
    assert.equal(r.code, 0, r.stderr);
    for (let n = 1; n <= 6; n++) {
      assert.match(r.stdout, new RegExp(`task ${n} says hello`));
      assert.match(r.stderr, new RegExp(`task ${n} warns`));
    }
    assert.match(r.stdout, /results 1,2,3,4,5,6\nterminated\n$/);
  });
}
