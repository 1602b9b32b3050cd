// How functions travel (DESIGN §4): source, module reference, explicit ref, and PicklingError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { reduceFunction } from '../src/reduction/functions.ts';
import { reviveFunction } from '../src/reduction/revive.ts';
import tripleOffset, { addOffset, double, shapes } from './fixtures/functions-lib.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';

checkNoLeaks();

function declared(a: number, b: number) {
  return Math.max(a, b);
}
const captured = 5;

test('self-contained functions travel as source: arrows, declarations, async, generators, methods', async () => {
  const cases: [Function, unknown[], unknown][] = [
    [(x: number) => x * x, [3], 9],
    [declared, [2, 7], 7],
    [async (x: number) => x + 1, [1], 2],
    [shapes.area, [3, 4], 12],
    [shapes.slowArea, [3, 5], 15],
    [double, [21], 42],
  ];
  for (const [fn, args, expected] of cases) {
    const ref = reduceFunction(fn);
    assert.equal(ref.kind, 'source', fn.name);
    const revived = await reviveFunction({ ...ref, id: `${ref.id}-copy` });
    assert.notEqual(revived, fn);
    assert.equal(await revived(...args), expected);
  }
  const gen = reduceFunction(function* count(n: number) {
    for (let i = 0; i < n; i++) yield i;
  });
  assert.equal(gen.kind, 'source');
  assert.deepEqual([...(await reviveFunction({ ...gen, id: 'gen-copy' }))(3)], [0, 1, 2]);
});

test('functions that use module state travel by module reference, found by location or name', async () => {
  for (const [fn, arg, expected] of [
    [addOffset, 1, 101],
    [tripleOffset, 2, 106],
  ] as const) {
    const ref = reduceFunction(fn);
    assert.equal(ref.kind, 'module');
    assert.match(ref.kind === 'module' ? ref.url : '', /functions-lib\.ts$/);
    assert.deepEqual(ref.kind === 'module' ? ref.captured : null, ['offset']);
    const revived = await reviveFunction(ref);
    assert.equal(revived, fn, 'the same module instance gives back the very function');
    assert.equal(revived(arg), expected);
  }
});

test('the wire form is cached per function object', () => {
  assert.equal(reduceFunction(addOffset), reduceFunction(addOffset));
});

test('mp.ref(url, name) names an export explicitly; bad arguments are TypeErrors', async () => {
  const r = mp.ref(new URL('./fixtures/functions-lib.ts', import.meta.url), 'addOffset');
  assert.equal((await reviveFunction(reduceFunction(r)))(1), 101);
  assert.throws(() => mp.ref('', 'x'), { name: 'TypeError', message: /`moduleUrl`/ });
  assert.throws(() => mp.ref('file:///x.js', ''), { name: 'TypeError', message: /`exportName`/ });
  await assert.rejects(
    reviveFunction(
      reduceFunction(mp.ref(new URL('./fixtures/functions-lib.ts', import.meta.url), 'nope')),
    ),
    {
      name: 'PicklingError',
    },
  );
});

test('PicklingError for bound, native and class values, and for non-functions a TypeError', () => {
  assert.throws(() => reduceFunction(declared.bind(null)), {
    name: 'PicklingError',
    code: 'ERR_PICKLING',
    message: /bound function.*arguments/,
  });
  assert.throws(() => reduceFunction(String.prototype.trim), {
    name: 'PicklingError',
    message: /native function/,
  });
  assert.throws(() => reduceFunction(class Foo {}), {
    name: 'PicklingError',
    message: /`Foo`.*class constructor/,
  });
  assert.throws(() => reduceFunction(42, 'the target'), {
    name: 'TypeError',
    message: /the target to be a function/,
  });
});

test('the same self-contained code written twice (an arrow in a loop) travels as one function', () => {
  const refs = [1, 2].map(() => reduceFunction((i: number) => i + 1));
  assert.equal(refs[0]!.id, refs[1]!.id);
  assert.notEqual(reduceFunction((i: number) => i + 2).id, refs[0]!.id);
});

test('built-in functions travel as their global path', () => {
  assert.deepEqual(
    [Math.min, String, JSON.stringify, parseInt, console.log].map((f) => {
      const wire = reduceFunction(f);
      return wire.kind === 'source' ? wire.source : wire.kind;
    }),
    ['Math.min', 'String', 'JSON.stringify', 'parseInt', 'console.log'],
  );
});

test('a function built by eval has no module: PicklingError names what it captured', () => {
  const made = new Function('return (x) => x + captured')() as Function;
  assert.throws(
    () => reduceFunction(made),
    (e: unknown) => e instanceof mp.PicklingError && /`captured`/.test((e as Error).message),
  );
  assert.equal(captured, 5);
});

forEachContext('function travel in workers', (ctx) => {
  test('a TypeScript module function imported from another module runs in the worker', async () => {
    const p = new ctx.Process({ target: (x: number) => process.exit(x), args: [3] });
    p.start();
    await withDeadline(p.join());
    assert.equal(p.exitCode, 3);
    const q = new ctx.Process({
      target: mp.ref(new URL('./fixtures/process-targets.ts', import.meta.url), 'exitWith'),
      args: [9],
    });
    q.start();
    await withDeadline(q.join());
    assert.equal(q.exitCode, 9);
  });
});
