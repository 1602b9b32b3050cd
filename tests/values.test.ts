// How values and errors travel (DESIGN §5): handles, transfer marks, errors rebuilt with class and cause.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { deserializeError, serializeError } from '../src/reduction/errors.ts';
import {
  decode,
  encode,
  kAnotherProcess,
  kThisProcess,
  kReduce,
  noteReducible,
  registerReviver,
} from '../src/reduction/values.ts';
import { checkNoLeaks, forEachContext, withDeadline } from './helpers/contexts.ts';
import { checkBytes } from './fixtures/process-targets.ts';

checkNoLeaks();

class Token {
  constructor(readonly id: number) {
    noteReducible();
  }
  [kReduce]() {
    return { kind: 'test.Token', state: { id: this.id } };
  }
}
registerReviver('test.Token', (state: { id: number }) => new Token(state.id));

test('reducible objects become handles anywhere inside a value and are revived', () => {
  const value = {
    a: [1, new Token(1)],
    m: new Map([['k', new Token(2)]]),
    s: new Set([new Token(3)]),
    plain: { x: 1 },
  };
  const enc = encode(value, kThisProcess);
  assert.equal(enc.walked, true);
  assert.ok(value.a[1] instanceof Token, 'the caller’s value is untouched');
  const out = decode(structuredClone(enc.value), enc.walked) as typeof value;
  assert.ok(out.a[1] instanceof Token && (out.a[1] as Token).id === 1);
  assert.ok(out.m.get('k') instanceof Token);
  assert.ok([...out.s][0] instanceof Token);
  assert.deepEqual(out.plain, { x: 1 });
});

test('transfer() marks fill the transfer list (threads) and are ignored across processes', () => {
  const bytes = mp.transfer(new Uint8Array(8));
  const enc = encode({ bytes }, kThisProcess);
  assert.deepEqual(enc.transfer, [bytes.buffer]);
  assert.deepEqual(encode({ bytes }, kAnotherProcess).transfer, []);
  assert.throws(() => mp.transfer(5 as never), { name: 'TypeError', message: /`value`/ });
});

test('errors are rebuilt with class, message, code, own properties, cause and remote stack', () => {
  const original = Object.assign(new RangeError('too big', { cause: new TypeError('inner') }), {
    code: 'E_BIG',
    detail: { n: 3 },
  });
  const rebuilt = deserializeError(structuredClone(serializeError(original))) as Error & {
    code: string;
    detail: unknown;
  };
  assert.ok(rebuilt instanceof RangeError);
  assert.equal(rebuilt.message, 'too big');
  assert.equal(rebuilt.code, 'E_BIG');
  assert.deepEqual(rebuilt.detail, { n: 3 });
  assert.ok(rebuilt.cause instanceof mp.RemoteTraceback);
  assert.match((rebuilt.cause as mp.RemoteTraceback).tb, /RangeError: too big/);
  const inner = (rebuilt.cause as Error).cause as Error;
  assert.ok(inner instanceof TypeError && inner.message === 'inner');

  class CustomError extends Error {
    override name = 'CustomError';
  }
  const custom = deserializeError(serializeError(new CustomError('mine'))) as Error;
  assert.equal(custom.name, 'CustomError');
  assert.ok(custom instanceof Error);

  const lib = deserializeError(
    serializeError(new mp.WorkerDiedError('died', -9, 'SIGKILL')),
  ) as mp.WorkerDiedError;
  assert.ok(lib instanceof mp.WorkerDiedError);
  assert.equal(lib.code, 'ERR_WORKER_DIED');
  assert.equal(lib.exitCode, -9);

  assert.equal(deserializeError(serializeError('a string')), 'a string');
});

forEachContext('values in workers', (ctx, _name, caps) => {
  test('a transfer()-marked buffer moves to a thread and is copied to a process', async () => {
    const bytes = mp.transfer(new Uint8Array([7, 1, 2]));
    const p = new ctx.Process({ target: checkBytes, args: [bytes, 3] });
    p.start();
    assert.equal(bytes.byteLength, caps.canTransfer ? 0 : 3, 'detached only when moved');
    await withDeadline(p.join());
    assert.equal(p.exitCode, 0);
  });
});

test('a handle that appears twice in one value revives once, to the same object', () => {
  const token = new Token(9);
  const enc = encode([token, { again: token }], kThisProcess);
  const [a, b] = decode(structuredClone(enc.value), enc.walked) as [Token, { again: Token }];
  assert.ok(a instanceof Token && a.id === 9);
  assert.equal(b.again, a);
});
