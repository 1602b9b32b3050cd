// Acceptance regressions for queues, pipes, wait(), the broker's framing and manager data proxies, in both contexts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { kChannel } from '../src/queues.ts';
import { H } from '../src/queues/ring.ts';
import { FrameReader, encodeFrame, decodeBody } from '../src/broker/protocol.ts';
import { checkNoLeaks, forEachContext, waitUntil, withDeadline } from './helpers/contexts.ts';

checkNoLeaks();

/** The header words of the channel under a queue or a connection's receiving end (this process owns it). */
function header(o: object): Int32Array {
  const channel = (o as { [kChannel]: { state: { buffers: SharedArrayBuffer[] } } })[kChannel];
  return new Int32Array(channel.state.buffers[0]!, 0, 32);
}

async function joined(p: mp.Process<any>): Promise<number | null> {
  await withDeadline(p.join(), 30_000, `${p.name} to exit`);
  return p.exitCode;
}

forEachContext('Queue acceptance', (ctx) => {
  test('an item that cannot be cloned fails at its own put and loses no other item', async () => {
    const q = new ctx.Queue<unknown>();
    const p = new ctx.Process({
      target: (q: mp.Queue<unknown>) => {
        q.putSync(1);
        try {
          q.putSync({ f: () => 0 });
          q.putSync('no error');
        } catch (e) {
          q.putSync((e as Error).name);
        }
        q.putSync(2);
      },
      args: [q],
    });
    p.start();
    const got = [];
    for (let i = 0; i < 3; i++) got.push(await withDeadline(q.get()));
    await withDeadline(p.join());
    assert.deepEqual(got, [1, 'DataCloneError', 2]);
    assert.equal(p.exitCode, 0);
  });

  test('an Error sent as an item, a message or a result keeps its class, code and properties', async () => {
    const q = new ctx.Queue<Error>();
    const p = new ctx.Process({
      target: (q: mp.Queue<Error>) =>
        q.putSync(Object.assign(new RangeError('bad'), { code: 'E_BAD', extra: 42 })),
      args: [q],
    });
    p.start();
    const item = (await withDeadline(q.get())) as RangeError & { code: string; extra: number };
    await withDeadline(p.join());
    assert.ok(item instanceof RangeError);
    assert.deepEqual([item.message, item.code, item.extra], ['bad', 'E_BAD', 42]);
    const [a, b] = ctx.Pipe();
    a.send(new mp.TimeoutError('late'));
    const message = await withDeadline(b.recv());
    assert.ok(message instanceof mp.TimeoutError);
    a.close();
    b.close();
    const pool = new ctx.Pool(1);
    try {
      const result = await pool.apply(() => Object.assign(new TypeError('t'), { code: 'E_T' }));
      assert.ok(result instanceof TypeError);
      assert.equal((result as TypeError & { code: string }).code, 'E_T');
    } finally {
      await pool.terminate();
    }
  });

  test('a worker that closed a queue gets ERR_CLOSED from its own later puts, at the call', async () => {
    const q = new ctx.Queue<number>();
    const out = new ctx.Queue<string[]>();
    const p = new ctx.Process({
      target: async (q: mp.Queue<number>, out: mp.Queue<string[]>) => {
        q.close();
        const codes: string[] = [];
        for (const put of [() => q.putSync(1), () => q.putNowait(2), () => q.put(3)]) {
          try {
            await put();
            codes.push('no error');
          } catch (e) {
            codes.push((e as { code: string }).code);
          }
        }
        await out.put(codes);
      },
      args: [q, out],
    });
    p.start();
    assert.deepEqual(await withDeadline(out.get()), ['ERR_CLOSED', 'ERR_CLOSED', 'ERR_CLOSED']);
    assert.equal(await joined(p), 0);
    assert.equal(q.qsize(), 0);
  });

  test('a worker killed while blocked in get() does not take the next item', async () => {
    const q = new ctx.Queue<string>();
    const h = header(q);
    const victim = new ctx.Process({ target: (q: mp.Queue<string>) => q.getSync(), args: [q] });
    victim.start();
    await waitUntil(() => Atomics.load(h, H.GetWaiters) > 0, 20_000, 'the victim to wait');
    victim.kill();
    assert.equal(await joined(victim), -9);
    // A thread dies inside Atomics.wait and keeps its count; the broker's wait for a dead
    // child must end (with the bug it stayed and took the next item).
    if (ctx.sharedMemory === 'broker')
      await waitUntil(() => Atomics.load(h, H.GetWaiters) === 0, 10_000, 'the broker to stop');
    await q.put('after');
    assert.equal(await withDeadline(q.get({ timeout: 10_000 })), 'after');
  });

  test('a worker killed while blocked in put() on a full queue puts nothing', async () => {
    const q = new ctx.Queue<string>(1);
    await q.put('first');
    const h = header(q);
    const victim = new ctx.Process({
      target: (q: mp.Queue<string>) => q.putSync('ghost'),
      args: [q],
    });
    victim.start();
    await waitUntil(() => Atomics.load(h, H.PutWaiters) > 0, 20_000, 'the victim to wait');
    victim.kill();
    assert.equal(await joined(victim), -9);
    if (ctx.sharedMemory === 'broker')
      await waitUntil(() => Atomics.load(h, H.PutWaiters) === 0, 10_000, 'the broker to stop');
    assert.equal(await q.get(), 'first');
    assert.throws(() => q.getNowait(), mp.Empty);
  });

  test('a worker killed while blocked in recv() does not take the next message', async () => {
    const [a, b] = ctx.Pipe<string>();
    const h = header(b);
    const victim = new ctx.Process({
      target: (c: mp.Connection<string>) => c.recvSync(),
      args: [b],
    });
    victim.start();
    await waitUntil(() => Atomics.load(h, H.GetWaiters) > 0, 20_000, 'the victim to wait');
    victim.kill();
    assert.equal(await joined(victim), -9);
    if (ctx.sharedMemory === 'broker')
      await waitUntil(() => Atomics.load(h, H.GetWaiters) === 0, 10_000, 'the broker to stop');
    a.send('after');
    assert.equal(await withDeadline(b.recv()), 'after');
    a.close();
    b.close();
  });

  test('wait() leaves no poll behind on the objects that were not ready', async () => {
    const [idle, idlePeer] = ctx.Pipe<number>();
    const [busy, busyPeer] = ctx.Pipe<number>();
    const q = new ctx.Queue<number>();
    const pending = mp.wait([idle, q, busy]);
    await waitUntil(() => Atomics.load(header(idle), H.PollWaiters) > 0, 10_000, 'wait() to poll');
    busyPeer.send(0);
    assert.deepEqual(await withDeadline(pending), [busy]);
    // Left pending, these polls held the event loop open forever (the program never exited)
    // and piled up, one per call.
    await waitUntil(() => Atomics.load(header(idle), H.PollWaiters) === 0, 10_000, 'idle poll');
    await waitUntil(() => Atomics.load(header(q), H.PollWaiters) === 0, 10_000, 'queue poll');
    for (let i = 1; i <= 100; i++) {
      assert.equal(await busy.recv(), i - 1);
      const again = mp.wait([idle, q, busy]);
      setImmediate(() => busyPeer.send(i));
      assert.deepEqual(await withDeadline(again), [busy]);
    }
    await waitUntil(() => Atomics.load(header(idle), H.PollWaiters) === 0, 10_000, 'idle polls');
    await waitUntil(() => Atomics.load(header(q), H.PollWaiters) === 0, 10_000, 'queue polls');
    for (const c of [idle, idlePeer, busy, busyPeer]) c.close();
  });

  test('wait() in a worker over objects of the parent times out, then answers', async () => {
    const [idle, idlePeer] = ctx.Pipe<number>();
    const q = new ctx.Queue<number>();
    const out = new ctx.Queue<number[]>();
    const p = new ctx.Process({
      target: async (
        url: string,
        idle: mp.Connection<number>,
        q: mp.Queue<number>,
        out: mp.Queue<number[]>,
      ) => {
        const { wait } = (await import(url)) as typeof mp;
        const none = await wait([idle, q], 50);
        await out.put([none.length]);
        const ready = await wait([idle, q]);
        await out.put([ready.length, ready[0] === q ? 1 : 0]);
      },
      args: [new URL('../src/index.ts', import.meta.url).href, idle, q, out],
    });
    p.start();
    assert.deepEqual(await withDeadline(out.get()), [0]);
    await q.put(7);
    assert.deepEqual(await withDeadline(out.get()), [1, 1]);
    assert.equal(await joined(p), 0);
    idle.close();
    idlePeer.close();
  });

  test('a 16 MB item goes to a worker and back', async () => {
    const q = new ctx.Queue<string>();
    const back = new ctx.Queue<number>();
    const p = new ctx.Process({
      target: (q: mp.Queue<string>, back: mp.Queue<number>) => back.putSync(q.getSync().length),
      args: [q, back],
    });
    p.start();
    await q.put('x'.repeat(16 << 20));
    assert.equal(await withDeadline(back.get()), 16 << 20);
    assert.equal(await joined(p), 0);
  });
});

test('FrameReader splits frames cut anywhere, and joins a big frame once (linear copying)', () => {
  const frames = [encodeFrame([1, 2, 'a', []]), encodeFrame('x'.repeat(300)), encodeFrame(null)];
  const stream = Buffer.concat(frames);
  for (let cut = 1; cut < stream.length; cut += 7) {
    const got: unknown[] = [];
    const reader = new FrameReader((body) => got.push(decodeBody(body)));
    for (let at = 0; at < stream.length; at += cut) reader.push(stream.subarray(at, at + cut));
    assert.deepEqual(got, [[1, 2, 'a', []], 'x'.repeat(300), null]);
  }
  // A 16 MB frame in 64 KiB chunks: joining the pending bytes on every chunk copied ~2 GB.
  const big = encodeFrame(new Uint8Array(16 << 20));
  let copied = 0;
  const concat = Buffer.concat;
  Buffer.concat = ((list: readonly Uint8Array[], total?: number) => {
    copied += total ?? list.reduce((n, b) => n + b.length, 0);
    return concat(list, total);
  }) as typeof Buffer.concat;
  try {
    let frames = 0;
    const reader = new FrameReader(() => frames++);
    for (let at = 0; at < big.length; at += 1 << 16) reader.push(big.subarray(at, at + (1 << 16)));
    assert.equal(frames, 1);
  } finally {
    Buffer.concat = concat;
  }
  assert.ok(copied <= 2 * big.length, `copied ${copied} bytes for a frame of ${big.length}`);
});

forEachContext('Manager data proxies acceptance', (ctx) => {
  test('misspelt options are refused, not ignored: queue waits, managers, proxies', async () => {
    const unknown = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' };
    const q = new ctx.Queue<number>();
    await assert.rejects(q.get({ timout: 10 } as never), { ...unknown, message: /`timout`/ });
    assert.throws(() => new mp.SyncManager({ shutdownTimeOut: 5 } as never), {
      ...unknown,
      message: /did you mean `shutdownTimeout`/,
    });
    await using manager = await ctx.Manager();
    const lock = await manager.Lock();
    await assert.rejects(lock.acquire({ timout: 10 } as never), unknown);
    const list = await manager.list([2, 1]);
    await assert.rejects(list.sort({ reversed: true } as never), unknown);
    assert.deepEqual(await list.copy(), [2, 1]);
  });

  test('Array elements must match the typecode: no silent 0, a clear TypeError', async () => {
    await using manager = await ctx.Manager();
    const ints = await manager.Array('i', 2);
    await assert.rejects(
      ints.set(0, 'x' as unknown as number),
      (e: any) =>
        e instanceof TypeError &&
        (e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE' &&
        /Expected `value` to be a number \(typecode 'i'\), got "x" \(string\)/.test(e.message),
    );
    assert.equal(await ints.get(0), 0);
    const bigs = await manager.Array('q', [1n]);
    await assert.rejects(
      bigs.set(0, 5 as unknown as bigint),
      (e: any) => e instanceof TypeError && /a bigint \(typecode 'q'\), got 5/.test(e.message),
    );
    await assert.rejects(manager.Array('d', [1, 'two' as unknown as number]), /sizeOrInit\[1\]/);
  });

  test("dict and list proxies have Python's method names too", async () => {
    await using manager = await ctx.Manager();
    const d = await manager.dict<string | number, string>([
      ['a', 'x'],
      [1, 'y'],
    ]);
    assert.deepEqual(await d.items(), [
      ['a', 'x'],
      [1, 'y'],
    ]);
    const copy = await d.copy();
    assert.ok(copy instanceof Map);
    assert.equal(copy.get(1), 'y', 'copy() keeps the keys as they are');
    assert.deepEqual(await d.popitem(), [1, 'y']);
    assert.deepEqual(await d.popitem(), ['a', 'x']);
    await assert.rejects(
      d.popitem(),
      (e: any) => e instanceof RangeError && /popitem\(\): dictionary is empty/.test(e.message),
    );
    const l = await manager.list<number>([3, 1, 2, 1, 10]);
    assert.equal(await l.count(1), 2);
    await l.sort();
    assert.deepEqual(await l.toArray(), [1, 1, 2, 3, 10], 'numbers sort by value, not as strings');
    await l.sort({ reverse: true });
    assert.deepEqual(await l.copy(), [10, 3, 2, 1, 1]);
    await l.reverse();
    assert.deepEqual(await l.toArray(), [1, 1, 2, 3, 10]);
    const mixed = await manager.list<unknown>([1, 'a']);
    await assert.rejects(mixed.sort(), TypeError);
    assert.deepEqual(await mixed.toArray(), [1, 'a'], 'a failed sort leaves the list as it was');
  });

  test('list pop() on an empty list says so', async () => {
    await using manager = await ctx.Manager();
    const l = await manager.list<number>();
    await assert.rejects(
      l.pop(),
      (e: any) =>
        e instanceof RangeError &&
        (e as { code?: string }).code === 'ERR_OUT_OF_RANGE' &&
        /pop from empty list/.test(e.message),
    );
  });
});
