// Pipe, Connection and wait() in both contexts: Python's semantics (A.4), holder counting and EOF, bytes, travel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import * as w from './fixtures/pipe-workers.ts';

checkNoLeaks();

async function joined(p: mp.Process<any>): Promise<number | null> {
  await withDeadline(p.join(), 30_000, `${p.name} to exit`);
  return p.exitCode;
}

function code(c: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof mp.InvalidStateError && e.code === c;
}

forEachContext('Pipe', (ctx) => {
  test('a duplex pipe carries objects both ways, in order', async () => {
    const [a, b] = ctx.Pipe<unknown>();
    assert.equal(a.readable && a.writable && b.readable && b.writable, true);
    const items = [1, 'two', { three: [3] }, null, undefined, new Uint8Array([4])];
    for (const x of items) a.send(x);
    for (const x of items) assert.deepEqual(await b.recv(), x);
    b.send('back');
    assert.equal(a.recvSync(), 'back');
    a.close();
    b.close();
  });

  test('one-way pipes: read-only and write-only ends', async () => {
    const [r, s] = ctx.Pipe<number>(false);
    assert.deepEqual([r.readable, r.writable, s.readable, s.writable], [true, false, false, true]);
    assert.throws(() => r.send(1), code('ERR_READ_ONLY'));
    assert.throws(() => r.sendBytes(new Uint8Array(1)), code('ERR_READ_ONLY'));
    await assert.rejects(s.recv(), code('ERR_WRITE_ONLY'));
    await assert.rejects(s.poll(), code('ERR_WRITE_ONLY'));
    await assert.rejects(s.recvBytes(), code('ERR_WRITE_ONLY'));
    s.send(5);
    assert.equal(await r.recv(), 5);
    assert.throws(() => ctx.Pipe('yes' as never), /Expected `duplex` to be a boolean/);
  });

  test('a closed handle: every operation fails with ERR_CLOSED; close() is idempotent', async () => {
    const [a, b] = ctx.Pipe();
    a.close();
    a.close();
    assert.equal(a.closed, true);
    assert.equal(b.closed, false);
    assert.throws(() => a.send(1), code('ERR_CLOSED'));
    await assert.rejects(a.recv(), code('ERR_CLOSED'));
    assert.throws(() => a.recvSync(), code('ERR_CLOSED'));
    await assert.rejects(a.poll(), code('ERR_CLOSED'));
    b.close();
  });

  test('EOF: the reader drains what was sent, then gets EOFError; poll() is true at EOF', async () => {
    const [a, b] = ctx.Pipe<number>();
    a.send(1);
    a.send(2);
    a.close();
    assert.equal(await b.poll(), true);
    assert.equal(await b.recv(), 1);
    assert.equal(b.recvSync(), 2);
    assert.equal(await b.poll(), true, 'EOF counts as ready');
    await assert.rejects(
      b.recv(),
      (e: unknown) => e instanceof mp.EOFError && (e as mp.EOFError).code === 'ERR_EOF',
    );
    assert.throws(() => b.recvSync(), mp.EOFError);
    assert.throws(() => b.send(3), code('ERR_BROKEN_PIPE'), 'nobody can read what b sends');
    b.close();
  });

  test('echo worker with recvSync/send; the Python idiom of closing the child end after start()', async () => {
    const [parent, child] = ctx.Pipe<unknown>();
    const p = new ctx.Process({ target: w.echoSync, args: [child] });
    p.start();
    child.close();
    for (let i = 0; i < 200; i++) {
      parent.send(i);
      assert.equal(await withDeadline(parent.recv()), i);
    }
    parent.send({ nested: ['x'] });
    assert.deepEqual(await parent.recv(), { nested: ['x'] });
    parent.close();
    assert.equal(await joined(p), 0, 'the worker saw EOF once the parent closed');
  });

  test('async iteration in a worker; EOF reaches the parent when the worker exits without close()', async () => {
    const [parent, child] = ctx.Pipe<number>();
    const echo = new ctx.Process({ target: w.echoAsync, args: [child] });
    echo.start();
    for (let i = 0; i < 10; i++) parent.send(i);
    const back: number[] = [];
    for (let i = 0; i < 10; i++) back.push(await withDeadline(parent.recv()));
    assert.deepEqual(back, [...Array(10).keys()]);
    parent.close();
    assert.equal(await joined(echo), 0);
    child.close();

    const [r, s] = ctx.Pipe<number>(false);
    const sender = new ctx.Process({ target: w.sendAndExit, args: [s, 5] });
    sender.start();
    s.close();
    const got: number[] = [];
    for await (const n of r) got.push(n);
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
    assert.equal(await joined(sender), 0);
    r.close();
  });

  test('EOF only once every holder of the other end has closed it', async () => {
    const [r, s] = ctx.Pipe<number>(false);
    const sender = new ctx.Process({ target: w.sendAndClose, args: [s, 3] });
    sender.start();
    assert.equal(await joined(sender), 0);
    for (let i = 0; i < 3; i++) assert.equal(await r.recv(), i);
    assert.equal(await r.poll(), false, 'the parent still holds the write end');
    s.close();
    await assert.rejects(r.recv(), mp.EOFError);
    r.close();
  });

  test('sendBytes/recvBytes/recvBytesInto with offsets, sizes and Python argument errors', async () => {
    const [a, b] = ctx.Pipe();
    const buf = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
    a.sendBytes(buf);
    a.sendBytes(buf, 2);
    a.sendBytes(buf, 2, 3);
    a.sendBytes(buf, 8);
    a.sendBytes(new Uint16Array([0x0102]).buffer);
    assert.deepEqual([...(await b.recvBytes())], [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual([...(await b.recvBytes())], [2, 3, 4, 5, 6, 7]);
    assert.deepEqual([...(await b.recvBytes(3))], [2, 3, 4]);
    assert.equal((await b.recvBytes()).byteLength, 0, 'offset == length sends an empty message');
    assert.equal((await b.recvBytes()).byteLength, 2);
    assert.throws(() => a.sendBytes(buf, -1), /`offset`.*offset is negative/);
    assert.throws(() => a.sendBytes(buf, 9), RangeError);
    assert.throws(() => a.sendBytes(buf, 0, -1), /size is negative/);
    assert.throws(() => a.sendBytes(buf, 4, 5), RangeError);
    assert.throws(() => a.sendBytes('abc' as never), /Expected `buf` to be an ArrayBuffer/);
    await assert.rejects(b.recvBytes(-1), /negative maxlength/);

    a.sendBytes(new Uint8Array([9, 8, 7]));
    const into = new Uint8Array(6);
    assert.equal(await b.recvBytesInto(into, 2), 3);
    assert.deepEqual([...into], [0, 0, 9, 8, 7, 0]);
    await assert.rejects(b.recvBytesInto(into, -1), /negative offset/);
    await assert.rejects(b.recvBytesInto(into, 7), /offset too large/);
    a.sendBytes(new Uint8Array(10).fill(1));
    await assert.rejects(b.recvBytesInto(into), (e: unknown) => {
      assert.ok(e instanceof mp.BufferTooShort);
      assert.equal(e.code, 'ERR_BUFFER_TOO_SHORT');
      assert.equal(e.data.byteLength, 10, 'the whole message, consumed');
      return true;
    });
    a.sendBytes(new Uint8Array(10));
    await assert.rejects(b.recvBytes(4), /bad message length/);
    assert.equal(b.readable, false, 'as in Python, the end is no longer readable');
    await assert.rejects(b.recv(), code('ERR_WRITE_ONLY'));
    a.close();
    b.close();
  });

  test('bytes from a worker, objects as bytes, bytes as objects', async () => {
    const [r, s] = ctx.Pipe(false);
    const p = new ctx.Process({ target: w.sendBytes, args: [s, 3] });
    p.start();
    s.close();
    for (let i = 0; i < 3; i++)
      assert.deepEqual([...(await withDeadline(r.recvBytes()))], [i, i, i]);
    assert.equal(await joined(p), 0);
    r.close();
    const [a, b] = ctx.Pipe();
    a.send({ k: 1 });
    const bytes = await b.recvBytes();
    assert.ok(bytes.byteLength > 0, 'an object arrives as its v8 serialization');
    a.sendBytes(new Uint8Array([1, 2]));
    assert.deepEqual([...((await b.recv()) as Uint8Array)], [1, 2]);
    a.close();
    b.close();
  });

  test('poll(): 0 by default, a timeout, Infinity; a reader killed while blocked', async () => {
    const [a, b] = ctx.Pipe<string>();
    assert.equal(await a.poll(), false);
    assert.equal(await a.poll(10), false);
    assert.equal(a.pollSync(), false);
    await assert.rejects(a.poll('x' as never), /Expected `timeout`/);
    const p = new ctx.Process({ target: w.replyAfterGo, args: [b] });
    p.start();
    a.send('go');
    assert.equal(await withDeadline(a.poll(Infinity)), true);
    assert.equal(await a.recv(), 'reply');
    assert.equal(await joined(p), 0);

    const started = new ctx.Queue<string>();
    const victim = new ctx.Process({ target: w.blockOnRecv, args: [b, started] });
    victim.start();
    assert.equal(await withDeadline(started.get()), 'blocking');
    victim.kill();
    await joined(victim);
    a.send('after');
    assert.equal(await b.recv(), 'after', 'the pipe still works for the others');
    a.close();
    b.close();
  });

  test('a holder killed without closing its end still gives the peer EOF', async () => {
    for (const stop of ['terminate', 'kill'] as const) {
      const [r, s] = ctx.Pipe<number>(false);
      const started = new ctx.Queue<string>();
      const holder = new ctx.Process({ target: w.holdForever, args: [s, started] });
      holder.start();
      s.close(); // the parent's handle: only the killed worker holds the write end now
      assert.equal(await withDeadline(started.get()), 'holding');
      holder[stop]();
      await joined(holder);
      await assert.rejects(
        withDeadline(r.recv(), 20_000, 'EOF after the holder died'),
        mp.EOFError,
      );
      r.close();
    }
  });

  test('uncloneable objects: DataCloneError, nothing sent', async () => {
    const [a, b] = ctx.Pipe();
    assert.throws(() => a.send(() => 1), mp.DataCloneError);
    assert.equal(await b.poll(), false);
    a.close();
    b.close();
  });
});

forEachContext('wait()', (ctx) => {
  test('returns the ready subset of connections, queues and processes, or [] after the timeout', async () => {
    const [a, b] = ctx.Pipe<string>();
    const [c, d] = ctx.Pipe<string>();
    const q = new ctx.Queue<number>();
    assert.deepEqual(await ctx.wait([a, c, q], 0), []);
    assert.deepEqual(await ctx.wait([a, c, q], 20), []);
    d.send('x');
    assert.deepEqual(await ctx.wait([a, c, q]), [c]);
    await q.put(1);
    assert.deepEqual(await ctx.wait([a, c, q], 1000), [c, q]);
    const p = new ctx.Process({ target: w.replyAfterGo, args: [b] });
    p.start();
    a.send('go');
    const ready = await withDeadline(ctx.wait([a, p]));
    assert.ok(ready.includes(a) || ready.includes(p));
    assert.equal(await joined(p), 0);
    assert.deepEqual(await ctx.wait([a, p]), [a, p]);
    await assert.rejects(ctx.wait([1 as never]), /Expected `objects\[0\]`/);
    await assert.rejects(ctx.wait('x' as never), /Expected `objects` to be an array/);
    for (const conn of [a, b, c, d]) conn.close();
  });
});
