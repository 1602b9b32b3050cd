// Makes TypeScript modules importable in a worker whose Node cannot load them by itself (Node 20).
import { isMainThread } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const kRegistered = Symbol.for('multiprocessing-ts.ts-registered');
const kTsExtension = /\.(ts|mts|cts|tsx)$/;

/** Whether `url` names a TypeScript module. */
export function isTypeScriptUrl(url) {
  try {
    return kTsExtension.test(new URL(url).pathname);
  } catch {
    return false;
  }
}

function loaderActive() {
  if (globalThis[kRegistered] || process.features?.typescript) return true;
  // A child process inherits --import/--loader flags and their hooks; Node 20 threads do not.
  return isMainThread && process.execArgv.some((arg) => /tsx|ts-node/.test(arg));
}

// Resolve tsx's ESM API (the CJS build resolves its own files wrongly when imported from ESM).
function resolveTsx(fromUrl) {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    const require = createRequire(fromUrl);
    const pkgPath = require.resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
    const entry = pkg.exports['./esm/api'];
    const file =
      typeof entry === 'string' ? entry : (entry.import?.default ?? entry.import ?? entry.default);
    return pathToFileURL(join(dirname(pkgPath), file)).href;
  }
}

/**
 * Registers the tsx loader in this thread before `url` is imported, when `url` is TypeScript
 * and nothing here can load it yet. Looks for tsx from the module's own project first.
 */
export async function ensureTypeScript(url) {
  if (!isTypeScriptUrl(url) || loaderActive()) return;
  let api;
  try {
    api = resolveTsx(url);
  } catch {
    throw new Error(
      `Cannot load the TypeScript module ${url} in a worker: this Node cannot strip types and 'tsx' is not installed. Run \`npm install --save-dev tsx\`.`,
    );
  }
  const { register } = await import(api);
  register();
  globalThis[kRegistered] = true;
}
