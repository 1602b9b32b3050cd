// Contexts and start methods (Python A.0): getContext, setStartMethod, getStartMethod, getAllStartMethods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mp from '../src/index.ts';
import { checkNoLeaks } from './helpers/contexts.ts';

checkNoLeaks();

test('the default start method is unset until used, then thread', () => {
  assert.equal(mp.getStartMethod({ allowNone: true }), null);
  assert.deepEqual(mp.getAllStartMethods(), ['thread', 'process']);
  assert.equal(mp.getStartMethod(), 'thread');
  assert.equal(mp.getStartMethod({ allowNone: true }), 'thread');
});

test('setStartMethod: a second call throws unless forced; null with force resets', () => {
  assert.throws(() => mp.setStartMethod('process'), {
    name: 'InvalidStateError',
    code: 'ERR_CONTEXT_ALREADY_SET',
    message: 'context has already been set',
  });
  mp.setStartMethod('process', { force: true });
  assert.equal(mp.getStartMethod(), 'process');
  assert.deepEqual(mp.getAllStartMethods(), ['process', 'thread']);
  mp.setStartMethod(null, { force: true });
  assert.equal(mp.getStartMethod({ allowNone: true }), null);
  mp.setStartMethod('thread');
  assert.throws(() => mp.setStartMethod('bogus' as never, { force: true }), {
    name: 'TypeError',
    message: /`method`.*'thread', 'process'.*"bogus"/,
  });
});

test('start-method options are checked: a misspelt key is refused', () => {
  const unknown = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' };
  assert.throws(() => mp.setStartMethod('thread', { forced: true } as never), unknown);
  assert.throws(() => mp.getStartMethod({ allownone: true } as never), {
    ...unknown,
    message: /did you mean `allowNone`/,
  });
});

test('getContext returns one context per method, each with the whole API bound to it', () => {
  const ctx = mp.getContext('process');
  assert.equal(ctx, mp.getContext('process'));
  assert.equal(ctx.method, 'process');
  assert.equal(ctx.getContext(), ctx);
  assert.equal(ctx.getStartMethod(), 'process');
  assert.equal(ctx.getContext('thread').method, 'thread');
  assert.throws(() => ctx.setStartMethod('thread'), { code: 'ERR_CONCRETE_CONTEXT' });
  assert.equal(typeof ctx.cpuCount, 'function');
  const p = new ctx.Process();
  assert.ok(p instanceof mp.Process);
  assert.match(p.name, /^Process-\d+$/);
  assert.equal(mp.getContext().method, mp.getStartMethod());
});

test('getContext rejects unknown methods and says cluster is not available', () => {
  assert.throws(() => mp.getContext('fork' as never), {
    name: 'TypeError',
    message: /Expected `method` to be one of/,
  });
  assert.throws(() => mp.getContext('cluster'), { code: 'ERR_UNSUPPORTED_CONTEXT' });
});
