// Test helper: run a TypeScript program in a fresh Node (under tsx) and collect its exit code and output.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The result of {@link runScript}. */
export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `file` (relative to tests/) with `args`; rejects if it has not exited after `timeout` ms. */
export function runScript(
  file: string,
  args: string[] = [],
  timeout = 60_000,
  env: NodeJS.ProcessEnv = {},
): Promise<ScriptResult> {
  const path = fileURLToPath(new URL(`../${file}`, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path, ...args],
      { timeout, killSignal: 'SIGKILL', env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        if (error && (error as { killed?: boolean }).killed) {
          reject(
            new Error(
              `${file} did not exit within ${timeout} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
            ),
          );
          return;
        }
        const code = error ? ((error as { code?: number }).code ?? null) : 0;
        resolve({
          code: typeof code === 'number' ? code : null,
          signal: (error as { signal?: NodeJS.Signals } | null)?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}
