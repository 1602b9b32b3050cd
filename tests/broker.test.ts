// Tests of the process-context machinery: the broker thread, remote cores, the sync bridge and named buffers.
import { loadShmAddon } from '../src/native/shm-addon.ts';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as mp from '../src/index.ts';
import {
  brokerDirectory,
  coreFromHandle,
  createBuffer,
  isRemoteCore,
  lookupBuffer,
  publishBuffer,
  shareCore,
  stopBroker,
  unpublishBuffer,
} from '../src/broker/provider.ts';
import { reduceCore, reviveCore } from '../src/shared/travel.ts';
import { callSignal } from '../src/shared/call-context.ts';
import { kAnotherProcess, kThisProcess } from '../src/reduction/values.ts';
import { checkNoLeaks, waitUntil, withDeadline } from './helpers/contexts.ts';
import { runScript } from './helpers/scripts.ts';
import { Orphan, pingOrphan } from './fixtures/broker-orphan.ts';
import {
  Counter,
  addAsync,
  addSync,
  callsFailCleanly,
  checkErrors,
  childThreadAdds,
  measureRoundTrips,
  namedBuffers,
  park,
  relay,
  threadBumpsNamed,
  threadCreatesNamed,
  threadSpawnsChild,
  threadUsesHandle,
  waitAsyncThenAdd,
  waitThenAdd,
} from './fixtures/broker-core.ts';

checkNoLeaks();

const ctx = mp.getContext('process');
const threads = mp.getContext('thread');

function start<A extends unknown[]>(
  context: mp.Context,
  target: (...args: A) => unknown,
  ...args: A
): mp.Process {
  const p = new context.Process({ target, args });
  p.start();
  return p as unknown as mp.Process;
}

async function exitCodeOf(p: mp.Process, what = p.name): Promise<number | null> {
  await withDeadline(p.join(), 60_000, `${what} to exit`);
  return p.exitCode;
}

/** Whether process `pid` still exists. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('broker: remote cores from child processes', () => {
  it('runs sync and async calls; the main thread sees the writes in its own buffer', async () => {
    const counter = new Counter();
    assert.equal(await exitCodeOf(start(ctx, addSync, counter, 300)), 0);
    assert.equal(counter.value, 300);
    assert.equal(await exitCodeOf(start(ctx, addAsync, counter, 300)), 0);
    assert.equal(counter.value, 600);
    // The main thread touches the buffer directly, never through the broker.
    assert.equal(counter.remote, false);
    assert.equal(new Int32Array(counter.core.state.buffers[0]!)[0], 600);
  });

  it('counts exactly with several children hammering one core', async () => {
    const counter = new Counter();
    const children = [
      start(ctx, addSync, counter, 400),
      start(ctx, addAsync, counter, 400),
      start(ctx, addSync, counter, 400),
      start(ctx, addAsync, counter, 400),
    ];
    for (const p of children) assert.equal(await exitCodeOf(p), 0);
    assert.equal(counter.value, 1600);
  });

  it('does not let a child blocked in a Sync call block another child', async () => {
    const counter = new Counter();
    const blocked = start(ctx, waitThenAdd, counter, 1000, 5);
    const blockedAsync = start(ctx, waitAsyncThenAdd, counter, 1000, 7);
    // While both wait for 1000, another child's 50 calls get through.
    assert.equal(await exitCodeOf(start(ctx, addSync, counter, 50)), 0);
    assert.equal(counter.value, 50);
    assert.equal(blocked.isAlive(), true);
    assert.equal(blockedAsync.isAlive(), true);
    counter.core.add(950);
    assert.equal(await exitCodeOf(blocked), 0);
    assert.equal(await exitCodeOf(blockedAsync), 0);
    assert.equal(counter.value, 1012);
  });

  it('keeps serving others after a child is killed while blocked, and aborts its callSignal()', async () => {
    const counter = new Counter();
    const parked = start(ctx, park, counter);
    await waitUntil(() => counter.core.parked().parked === 1, 30_000, 'the child to park');
    parked.kill();
    assert.equal(await exitCodeOf(parked), -9);
    await waitUntil(() => counter.core.parked().abandoned === 1, 10_000, 'the abandonment');
    assert.equal(await exitCodeOf(start(ctx, addSync, counter, 20)), 0);
    assert.equal(counter.value, 20);
  });

  it('delivers errors thrown by core methods with their class and code', async () => {
    // checkErrors exits non-zero naming the first mismatch (see the fixture).
    assert.equal(await exitCodeOf(start(ctx, checkErrors, new Counter())), 0);
  });

  it('fails calls at once, with the reason, for a core the broker cannot create', async () => {
    // Registered without its module URL, in a module the broker never imports.
    assert.equal(await exitCodeOf(start(ctx, pingOrphan, new Orphan())), 0);
  });

  it('passes a remote core on to a grandchild unchanged', async () => {
    const counter = new Counter();
    assert.equal(await exitCodeOf(start(ctx, relay, counter, 25)), 0);
    assert.equal(counter.value, 25);
  });

  it('lets a thread of a child process use the remote core (its own bridge)', async () => {
    const counter = new Counter();
    assert.equal(await exitCodeOf(start(ctx, childThreadAdds, counter, 15)), 0);
    assert.equal(counter.value, 15);
  });

  it('shares a core from a thread worker of the owner process with a child', async () => {
    await stopBroker(); // the thread has to get the main thread to start it
    const counter = new Counter();
    assert.equal(await exitCodeOf(start(threads, threadSpawnsChild, counter, 30)), 0);
    assert.equal(counter.value, 30);
  });

  it('measures round trips from a child (reported, not asserted)', async () => {
    const counter = new Counter();
    const out = new Counter();
    assert.equal(await exitCodeOf(start(ctx, measureRoundTrips, counter, out, 2000)), 0);
    const [syncNs, asyncNs, pipelinedNs] = out.core.get3();
    console.log(
      `broker round trip from a child: sync ${(syncNs / 1000).toFixed(1)} µs, ` +
        `async ${(asyncNs / 1000).toFixed(1)} µs, pipelined async ${(pipelinedNs / 1000).toFixed(2)} µs per call`,
    );
    assert.ok(syncNs > 0 && asyncNs > 0 && pipelinedNs > 0);
  });
});

describe('broker: handles in the owner process', () => {
  it('returns the very core for a handle coming back, and is idempotent per core', () => {
    const counter = new Counter();
    const handle = shareCore(counter.core);
    assert.equal(shareCore(counter.core), handle);
    assert.equal(coreFromHandle(handle), counter.core);
    assert.equal(isRemoteCore(counter.core), false);
    const wire = reduceCore(counter.core, kAnotherProcess);
    assert.equal(wire.t, 'remote');
    assert.equal(reviveCore(wire), counter.core);
  });

  it('revives a handle in another thread of the owner process over the same buffers', async () => {
    const counter = new Counter();
    const handle = shareCore(counter.core);
    assert.equal(await exitCodeOf(start(threads, threadUsesHandle, handle, 4)), 0);
    assert.equal(counter.value, 4);
  });

  it('sends buffers, not handles, to threads', () => {
    const counter = new Counter();
    const wire = reduceCore(counter.core, kThisProcess);
    assert.equal(wire.t, 'local');
    const twin = reviveCore(wire);
    assert.notEqual(twin, counter.core);
    (twin as typeof counter.core).add(3);
    assert.equal(counter.value, 3);
  });

  it('gives no callSignal() outside a broker call', () => {
    assert.equal(callSignal(), undefined);
  });
});

describe('broker: named buffers', () => {
  it('publishes, finds, refuses duplicates and unpublishes in the owner process', () => {
    const sab = new SharedArrayBuffer(4);
    publishBuffer('broker-test-a', sab);
    // The same memory (a SharedArrayBuffer object cloned through the broker thread).
    const found = lookupBuffer('broker-test-a') as SharedArrayBuffer;
    new Uint8Array(found)[1] = 7;
    assert.equal(new Uint8Array(sab)[1], 7);
    assert.throws(
      () => publishBuffer('broker-test-a', new SharedArrayBuffer(4)),
      (e: unknown) => e instanceof mp.FileExistsError && e.code === 'ERR_FILE_EXISTS',
    );
    unpublishBuffer('broker-test-a');
    assert.throws(
      () => lookupBuffer('broker-test-a'),
      (e: unknown) => e instanceof mp.FileNotFoundError && e.code === 'ERR_FILE_NOT_FOUND',
    );
    assert.throws(
      () => unpublishBuffer('broker-test-a'),
      (e: unknown) => e instanceof mp.FileNotFoundError,
    );
    assert.throws(() => publishBuffer('', sab), TypeError);
    assert.throws(() => createBuffer('broker-test-b', 0), RangeError);
  });

  it('attaches by name from a thread worker (the same memory)', async () => {
    const mem = createBuffer('broker-test-thread', 8) as SharedArrayBuffer;
    assert.ok(mem instanceof SharedArrayBuffer);
    assert.equal(await exitCodeOf(start(threads, threadBumpsNamed, 'broker-test-thread')), 0);
    assert.equal(await exitCodeOf(start(threads, threadBumpsNamed, 'broker-test-thread')), 0);
    assert.equal(new Uint8Array(mem)[0], 2);
    unpublishBuffer('broker-test-thread');
  });

  it('creates by name from a thread while the broker is stopped', async () => {
    await stopBroker();
    assert.equal(await exitCodeOf(start(threads, threadCreatesNamed, 'broker-test-t')), 0);
    assert.deepEqual(
      [...new Uint8Array(lookupBuffer('broker-test-t') as SharedArrayBuffer)],
      [5, 6],
    );
    unpublishBuffer('broker-test-t');
  });

  it('attaches and creates by name from a child process', async () => {
    const mem = createBuffer('broker-test-child', 8) as SharedArrayBuffer;
    new Uint8Array(mem)[0] = 41;
    assert.equal(
      await exitCodeOf(start(ctx, namedBuffers, 'broker-test-child', 'broker-test-made')),
      0,
    );
    assert.deepEqual([...new Uint8Array(mem)], [42, 0, 0, 0, 9, 9, 0, 0]);
    const made = lookupBuffer('broker-test-made') as SharedArrayBuffer;
    assert.deepEqual([...new Uint8Array(made)], [1, 2, 3, 4]);
    unpublishBuffer('broker-test-child');
    unpublishBuffer('broker-test-made');
  });
});

describe('broker: lifecycle', () => {
  it('keeps its socket in a private 0700 directory that stopBroker removes', async () => {
    shareCore(new Counter().core);
    const dir = brokerDirectory();
    assert.ok(dir && existsSync(dir));
    if (process.platform !== 'win32') assert.equal(statSync(dir).mode & 0o777, 0o700);
    await stopBroker();
    assert.equal(brokerDirectory(), null);
    assert.equal(existsSync(dir), false);
  });

  it('fails calls cleanly once the broker stops, then restarts lazily', async () => {
    const counter = new Counter();
    const child = start(ctx, callsFailCleanly, counter);
    await waitUntil(() => counter.value >= 1, 30_000, 'the child to call');
    await stopBroker();
    assert.equal(await exitCodeOf(child), 0);
    // A new share starts a new broker (new directory); the same core works again.
    assert.equal(await exitCodeOf(start(ctx, addSync, counter, 5)), 0);
    assert.equal(counter.value, 6);
  });

  it('removes its directory when the program exits without stopping it', async () => {
    const r = await runScript('fixtures/broker-program.ts', ['exit']);
    assert.equal(r.code, 0, r.stderr);
    const { dir, value } = JSON.parse(r.stdout.trim()) as { dir: string; value: number };
    assert.equal(value, 1);
    assert.ok(dir);
    assert.equal(existsSync(dir), false);
  });

  it('a child blocked in a Sync call when its parent is killed ends with it, or fails cleanly without the addon', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'broker-test-'));
    const marker = join(scratch, 'marker');
    let dir = '';
    try {
      const r = await runScript('fixtures/broker-program.ts', ['kill', marker]);
      assert.equal(r.signal, 'SIGKILL', r.stderr);
      const out = JSON.parse(r.stdout.trim()) as { dir: string; pid: number };
      dir = out.dir;
      if (loadShmAddon()) {
        // The kernel ends a child with its parent (the parent-death signal): no orphan is left.
        await waitUntil(() => !isAlive(out.pid), 30_000, 'the orphaned child to end');
      } else {
        await waitUntil(() => existsSync(marker), 30_000, 'the orphaned child to report');
        assert.equal(readFileSync(marker, 'utf8'), 'gone:ERR_BROKER_GONE');
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
      // SIGKILL runs no exit hook: the dead program's directory is left to us.
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
});
