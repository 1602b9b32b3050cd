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
