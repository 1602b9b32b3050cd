// The table of travelling kinds: each listed module registers its kinds, and every primitive's handle kind is listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { kHandleModules } from '../src/reduction/kinds.ts';
import { encode, kThisProcess } from '../src/reduction/values.ts';
import { runScript } from './helpers/scripts.ts';

/** The handle kinds found in an encoded value. */
function handleKinds(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value !== 'object' || value === null) return out;
  const kind = (value as Record<string, unknown>)['\u0000mp:handle'];
  if (typeof kind === 'string') out.add(kind);
  for (const item of Object.values(value)) handleKinds(item, out);
  return out;
}

test('loading the tables alone registers every listed core and reviver', async () => {
  const result = await runScript('fixtures/kinds-check.ts');
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), []);
});

test("every primitive's handle kind is in the table", () => {
  const shm = new mp.SharedMemory({ create: true, size: 8 });
  const list = new mp.ShareableList([1, 'a']);
  const queues = [new mp.Queue(), new mp.JoinableQueue(), new mp.SimpleQueue()];
  const [a, b] = mp.Pipe();
  try {
    const lock = new mp.Lock();
    const values = [
      lock,
      new mp.RLock(),
      new mp.Semaphore(),
      new mp.BoundedSemaphore(),
      new mp.Condition(lock),
      new mp.Event(),
      new mp.Barrier(2),
      mp.Value('i', 1),
      mp.RawValue('d', 1),
      mp.Array('i', 3),
      mp.RawArray('b', 3),
      shm,
      list,
      ...queues,
      a,
      b,
    ];
    const kinds = handleKinds(encode(values, kThisProcess).value);
    assert.ok(kinds.size >= 10, `found only ${[...kinds].join(', ')}`);
    for (const kind of kinds)
      assert.ok(Object.hasOwn(kHandleModules, kind), `${kind} is not listed`);
  } finally {
    for (const q of queues) q.close();
    a.close();
    b.close();
    list.shm.close();
    list.shm.unlink();
    shm.close();
    shm.unlink();
  }
});
