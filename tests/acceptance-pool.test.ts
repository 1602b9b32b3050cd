// Acceptance: Pool and Process used as a Python developer would, in both contexts; each test pins a defect found by running user programs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkNoLeaks, forEachContext } from './helpers/contexts.ts';
import type { ScriptResult } from './helpers/scripts.ts';

checkNoLeaks();

const kRepo = new URL('..', import.meta.url);
const kLibraryUrl = new URL('src/index.ts', kRepo).href;

/**
 * Writes `body` as a user program in a directory of its own (importing the library as `mp`),
 * runs it under tsx in a fresh Node, and collects its exit code and output.
 */
async function runProgram(body: string, args: string[]): Promise<ScriptResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-accept-'));
  try {
    const file = join(dir, 'program.ts');
    writeFileSync(file, `import * as mp from ${JSON.stringify(kLibraryUrl)};\n${body}\n`);
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    return await new Promise<ScriptResult>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', file, ...args],
        { cwd: fileURLToPath(kRepo), timeout: 60_000, killSignal: 'SIGKILL' },
        (error, stdout, stderr) => {
          if ((error as { killed?: boolean } | null)?.killed) {
            reject(
              new Error(`the program did not exit in time\nstdout: ${stdout}\nstderr: ${stderr}`),
            );
            return;
          }
          const code = (error as { code?: unknown } | null)?.code;
          resolve({
            code: error ? (typeof code === 'number' ? code : null) : 0,
            signal: (error as { signal?: NodeJS.Signals } | null)?.signal ?? null,
            stdout,
            stderr,
          });
        },
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

forEachContext('acceptance: Process', (ctx, method) => {
  test('await join() on a daemonic process keeps the program alive until it ends', async () => {
    const result = await runProgram(
      `export async function slow(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  console.log('daemon done');
}
if (mp.isMainProcess()) {
  const ctx = mp.getContext(process.argv[2] as 'thread' | 'process');
  const p = new ctx.Process({ target: slow, daemon: true });
  p.start();
  await p.join();
  console.log('joined', p.exitCode);
  const q = new ctx.Process({ target: slow, daemon: true });
  q.start();
  await q.join(60_000);
  console.log('joined with timeout', q.exitCode);
}`,
      [method],
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'daemon done\njoined 0\ndaemon done\njoined with timeout 0\n');
  });
});
