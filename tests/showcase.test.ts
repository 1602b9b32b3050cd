// The showcase (`npm start`) runs to the end in both contexts and prints every section of the tour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kContexts } from './helpers/contexts.ts';
import { runScript } from './helpers/scripts.ts';

for (const method of kContexts) {
  test(`npm start -- --context ${method}: the whole tour`, async () => {
    const r = await runScript(
      '../showcase/tour.ts',
      ['--context', method, '--limit', '300000'],
      120_000,
    );
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const out = `${r.stdout}\n${r.stderr}`;
    for (const pattern of [
      new RegExp(`context '${method}'`),
      /Worker 1 started {2}\(Process-\d+, pid \d+, parent MainProcess\)/,
      /Worker 4 finished/,
      /sorted: \[1,4,9,16,25\]/,
      /counter\.value = 5000/,
      /\[0,1,4,9,16,25,36,49,64,81\]/,
      /\[2,12,30\]/,
      /\[INFO\/PoolWorker-\d+\] working on item/,
      /caught SyntaxError \(instanceof SyntaxError: true\)/,
      /Process Failing-1:\nError: something went wrong/,
      /25,997 primes serially/,
      /25,997 primes on \d+ workers/,
      /speedup ×\d+\.\d\d/,
      /Tour finished in/,
    ]) {
      assert.match(out, pattern);
    }
  });
}
