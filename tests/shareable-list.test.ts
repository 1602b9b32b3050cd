// ShareableList in both contexts: items, types, capacity errors, travel and attach by name (Python A.8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import { attachAndSet, transform } from './fixtures/shareable-workers.ts';

checkNoLeaks();

function unlinkAll(...lists: mp.ShareableList[]): void {
  for (const sl of lists) sl.shm.unlink();
}

test('items of every supported type, negative indices, format, count and index', () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const sl = new mp.ShareableList([42, 2.5, 7n, true, 'héllo', bytes, null]);
  try {
    assert.equal(sl.length, 7);
    assert.deepEqual(sl.toArray(), [42, 2.5, 7n, true, 'héllo', bytes, null]);
    assert.equal(sl[-1], null);
    assert.equal(sl[-3], 'héllo');
    assert.equal(sl.format, 'ddq?8s8yx');
    assert.equal(sl.count(42), 1);
    assert.equal(sl.index(true), 3);
    assert.equal(sl.index(new Uint8Array([1, 2, 3])), 5);
    assert.throws(() => sl.index('absent'), {
      name: 'RangeError',
      message: /is not in the ShareableList/,
    });
    assert.equal(0 in sl, true);
    assert.equal(7 in sl, false);
    assert.match(
      String(sl),
      /^ShareableList\(\[ 42, 2\.5, 7n, true, 'héllo', Uint8Array\(3\) \[ 1, 2, 3 \], null \], name='psm_[0-9a-f]{8}'\)$/,
    );
  } finally {
    unlinkAll(sl);
  }
});

test('an item may change type if it fits its slot; too long strings/bytes are RangeErrors', () => {
  const sl = new mp.ShareableList([1, 'abc']);
  try {
    sl[0] = 'eight ch';
    assert.equal(sl[0], 'eight ch');
    sl[0] = null;
    assert.equal(sl[0], null);
    sl[1] = 'abcdefg';
    assert.equal(sl[1], 'abcdefg');
    assert.throws(() => (sl[1] = 'abcdefghi'), {
      name: 'RangeError',
      message: /exceeds available storage/,
    });
    assert.equal(sl[1], 'abcdefg', 'the failed assignment changed nothing');
    sl[1] = 99n;
    assert.equal(sl[1], 99n);
  } finally {
    unlinkAll(sl);
  }
});

test('index errors, bad items and bad arguments', () => {
  const sl = new mp.ShareableList([1, 2]);
  try {
    assert.throws(() => sl[2], { name: 'RangeError', message: 'index out of range' });
    assert.throws(() => sl.get(-3), { name: 'RangeError', message: 'index out of range' });
    assert.throws(() => (sl[5] = 1), {
      name: 'RangeError',
      message: 'assignment index out of range',
    });
    assert.throws(() => (sl[0] = { a: 1 } as never), {
      name: 'TypeError',
      message: /Expected `item` to be a number, bigint/,
    });
    assert.throws(() => sl.get(1.5), { name: 'TypeError', message: /`index`/ });
  } finally {
    unlinkAll(sl);
  }
  assert.throws(() => new mp.ShareableList([[1]] as never), {
    name: 'TypeError',
    message: /`sequence\[0\]`/,
  });
  assert.throws(() => new mp.ShareableList(5 as never), {
    name: 'TypeError',
    message: /`sequence`/,
  });
  assert.throws(() => new mp.ShareableList(), {
    name: 'TypeError',
    message: /`sequence` or `options.name`/,
  });
  assert.throws(() => new mp.ShareableList(null, { name: 'psm_missing_x' }), {
    name: 'FileNotFoundError',
  });
  assert.throws(() => new mp.ShareableList([2n ** 70n]), { name: 'RangeError' });
});

test('attach by name shares the data; a named list can be created', () => {
  const sl = new mp.ShareableList(['x', 1], { name: 'mp_test_sl_named' });
  try {
    const other = new mp.ShareableList(null, { name: 'mp_test_sl_named' });
    other[1] = 5;
    assert.equal(sl[1], 5);
    assert.equal(other.shm.name, 'mp_test_sl_named');
    assert.throws(() => new mp.ShareableList([1], { name: 'mp_test_sl_named' }), {
      name: 'FileExistsError',
    });
  } finally {
    unlinkAll(sl);
  }
});

forEachContext('ShareableList in workers', (ctx) => {
  test('it travels inside arguments and workers write into it', async () => {
    const sl = new mp.ShareableList([1, 'ab', 3.5, true]);
    try {
      const p = new ctx.Process({ target: transform, args: [sl] });
      p.start();
      await withDeadline(p.join());
      assert.equal(p.exitCode, 0);
      assert.deepEqual(sl.toArray(), [2, 'AB', 7, true]);
    } finally {
      unlinkAll(sl);
    }
  });

  test('a worker attaches by name', async () => {
    const sl = new mp.ShareableList([0, 0, 0]);
    try {
      const p = new ctx.Process({ target: attachAndSet, args: [sl.shm.name, 2, 'yes'] });
      p.start();
      await withDeadline(p.join());
      assert.equal(p.exitCode, 0);
      assert.equal(sl[2], 'yes');
    } finally {
      unlinkAll(sl);
    }
  });
});
