// Runs every program in examples/ (against the built package) and checks what it prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { runScript } from './helpers/scripts.ts';

// What an example must print (stdout + stderr); every example must also exit with code 0.
const kExpected: Record<string, RegExp[]> = {
  'process.ts': [
    /worker 1 ran in Process-1/,
    /exit codes: 0 0 0/,
    /still alive after 100 ms: true/,
    /after terminate\(\): -15/,
  ],
  'process-subclass.ts': [/Countdown-1: 2\nCountdown-1: 1\nCountdown-1: liftoff/, /exit code 0/],
  'process-context.ts': [
    /child: Process-1 pid differs from parent: true/,
    /crashed child exit code: -9/,
  ],
  'errors.ts': [
    /Process Failing:\nRangeError: out of range/,
    /exit code after an uncaught error: 1/,
    /DataCloneError: Cannot send argument 0/,
    /PicklingError for a native function/,
    /closure exit code: 1/,
    /it uses `secret`/,
  ],
  'typescript-module.ts': [
    /fib\(20\) = 6765 in Process-1/,
    /fib\(20\) = 6765 in Process-2/,
    /logFib: fib\(10\) = 55/,
  ],
  'pool-map.ts': [
    /squares: 0 1 4 9 16 25 36 49 64 81/,
    /products: 6 20/,
    /cubes: 1 8 27/,
    /cannot travel: PicklingError/,
  ],
  'pool-imap-progress.ts': [
    /first squares divisible by 7: 0 49 196 441 784/,
    /progress: 2\/6 4\/6 6\/6/,
    /all results: 1 4 9 16 25/,
  ],
  'pool-apply-async.ts': [
    /callback got 5/,
    /result: 5 ready: true successful: true/,
    /errorCallback got RangeError/,
    /WorkerDiedError: exit code 3/,
    /get\(50\): TimeoutError/,
    /after terminate: PoolTerminatedError/,
  ],
  'abort-timeout.ts': [
    /aborted: AbortError \(cause: user pressed cancel\)/,
    /timed out: TimeoutError/,
    /signal timeout: AbortError/,
    /still serving: 10/,
    /get\(20\): TimeoutError/,
    /get\(\): 300/,
    /queue get: Empty/,
    /lock acquire with timeout 20: false/,
  ],
  'transfer.ts': [
    /sums: 0 1000000 2000000 3000000; sender's first array now has length 0/,
    /shared sum: 4000000/,
  ],
  'queue.ts': [
    /squares: 1 4 9 16 25/,
    /second put: Full/,
    /empty get after 10 ms: Empty/,
    /closed and drained/,
  ],
  'joinable-queue.ts': [/all jobs done; results: 6/, /consumers exited: 0 0/],
  'pipe.ts': [/echo: HELLO/, /poll with nothing sent: false/, /after the writer closed: EOFError/],
  'value-array.ts': [
    /counter: 5/,
    /Value\('b', 200\): -56/,
    /is a Float64Array: true/,
    /process-context counter: 3/,
  ],
  'mapped-memory.ts': [
    /process context shared memory: (mapped|broker)/,
    /counter: (100000 of 100000|1000 of 1000) exact/,
    /child sees a Float64Array: true/,
    /parent reads arr\[0\]: 42/,
  ],
  'shared-memory.ts': [/thread: HELLO/, /process: HELLO/, /after unlink: FileNotFoundError/],
  'shareable-list.ts': [/'alpha', 'beta', 42, true, 'done by Process-2'/, /format 8s8sd\?32s/],
  'locks-events-barrier.ts': [
    /barrier action: all 3 arrived/,
    /exit codes: 0 0 0/,
    /ERR_RELEASED_TOO_MANY_TIMES/,
    /a barrier nobody joins: BrokenBarrierError/,
  ],
  'manager.ts': [/squares: 0 1 4 9 16 25 36 49 64 81/, /changed in place: 1/, /assigned back: 5/],
  'manager-custom-class.ts': [
    /balance after 4 x 25 deposits: 100/,
    /InsufficientFunds: cannot withdraw 1000/,
  ],
  'logging.ts': [
    /\[INFO\/MainProcess\] starting a worker/,
    /\[INFO\/Worker-A\] working/,
    /\[INFO\/MainProcess\] worker exit code 0/,
  ],
};

const examples = readdirSync(new URL('../examples/', import.meta.url)).filter((f) =>
  f.endsWith('.ts'),
);

for (const file of examples) {
  test(`example ${file} runs and prints what it promises`, async () => {
    const r = await runScript(`../examples/${file}`, [], 90_000);
    assert.equal(r.code, 0, `exit code ${r.code}\n${r.stdout}\n${r.stderr}`);
    const output = `${r.stdout}\n${r.stderr}`;
    for (const pattern of kExpected[file] ?? []) assert.match(output, pattern);
  });
}
