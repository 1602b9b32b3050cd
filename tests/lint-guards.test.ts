// The seam guards of eslint.config.js: each must fire on what it forbids, never on what it allows.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: fileURLToPath(new URL('..', import.meta.url)) });

/** The seam rules that fire when `code` is linted as if it were the file `path`. */
async function seamRules(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path });
  const fatal = result!.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${path} does not parse`);
  return result!.messages
    .map((m) => m.ruleId ?? '')
    .filter((id) => id.startsWith('seams/'))
    .sort();
}

interface Case {
  readonly path: string;
  readonly code: string;
  /** The seam rules expected to fire, in sorted order. */
  readonly fires: readonly string[];
}

function check(cases: readonly Case[]): void {
  for (const c of cases) {
    const what = c.fires.length ? `fires ${c.fires.join(', ')}` : 'is allowed';
    // The name shows the line under test, without the declarations before it.
    const shown = c.code
      .trim()
      .split('\n')
      .filter((line) => !/^(declare )?const /.test(line))
      .join(' ');
    test(`${c.path}: \`${shown}\` ${what}`, async () => {
      assert.deepEqual(await seamRules(c.path, c.code), c.fires);
    });
  }
}

describe('lint guard: primitives never import src/broker/', () => {
  const imports = 'seams/primitive-imports';
  const dynamic = 'seams/primitive-dynamic-imports';
  check([
    { path: 'src/synchronize/x.ts', code: "import '../broker/client.ts';\n", fires: [imports] },
    {
      path: 'src/queues/x.ts',
      code: "export { callSignal } from '../broker/call-context.ts';\n",
      fires: [imports],
    },
    { path: 'src/queues.ts', code: "import './broker/host.ts';\n", fires: [imports] },
    { path: 'src/shared-memory.ts', code: "void import('./broker/x.ts');\n", fires: [dynamic] },
    { path: 'src/synchronize/x.ts', code: "import '../shared/remote.ts';\n", fires: [] },
    { path: 'src/synchronize/x.ts', code: "import '../brokerage.ts';\n", fires: [] },
    { path: 'src/pool/x.ts', code: "import '../broker/client.ts';\n", fires: [] },
    { path: 'src/shared/x.ts', code: "import '../broker/client.ts';\n", fires: [] },
  ]);
});

describe('lint guard: internal modules never import src/index.ts', () => {
  const imports = 'seams/root-index-imports';
  const dynamic = 'seams/root-index-dynamic-imports';
  check([
    { path: 'src/x.ts', code: "import * as mp from './index.ts';\nvoid mp;\n", fires: [imports] },
    { path: 'src/pool/x.ts', code: "import '../index.ts';\n", fires: [imports] },
    { path: 'src/pool/x.ts', code: "export * from '../index';\n", fires: [imports] },
    { path: 'src/a/b/x.ts', code: "import '../../index.ts';\n", fires: [imports] },
    { path: 'src/runtime/x.ts', code: "void import('../index.ts');\n", fires: [dynamic] },
    { path: 'src/backends/x.ts', code: "import './index.ts';\n", fires: [] },
    { path: 'src/pool/x.ts', code: "import '../backends/index.ts';\n", fires: [] },
    { path: 'src/a/b/x.ts', code: "import '../index.ts';\n", fires: [] },
    { path: 'src/index.ts', code: "export * from './context.ts';\n", fires: [] },
    { path: 'tests/x.test.ts', code: "import '../src/index.ts';\n", fires: [] },
  ]);
});

describe('lint guard: only the context and backend layer compares start-method names', () => {
  const literals = 'seams/method-literals';
  const m = 'declare const m: string;\n';
  check([
    { path: 'src/pool/x.ts', code: `${m}void (m === 'thread');\n`, fires: [literals] },
    { path: 'src/pool/x.ts', code: `${m}void ('process' !== m);\n`, fires: [literals] },
    { path: 'src/x.ts', code: `${m}void (m == \`thread\`);\n`, fires: [literals] },
    {
      path: 'src/managers/x.ts',
      code: `${m}switch (m) {\n  case 'process':\n    break;\n}\n`,
      fires: [literals],
    },
    {
      path: 'src/runtime/x.ts',
      code: "declare const job: { kind: string };\nvoid (job.kind === 'process');\n",
      fires: [literals],
    },
    { path: 'src/pool/x.ts', code: "export const job = { kind: 'process' };\n", fires: [] },
    {
      path: 'src/pool/x.ts',
      code: "export const spawn = { role: 'process' as const };\n",
      fires: [],
    },
    { path: 'src/pool/x.ts', code: `${m}void (m === 'threads');\n`, fires: [] },
    { path: 'src/backends/x.ts', code: `${m}void (m === 'process');\n`, fires: [] },
    { path: 'src/context.ts', code: `${m}void (m !== 'thread');\n`, fires: [] },
    { path: 'tests/x.test.ts', code: `${m}void (m === 'thread');\n`, fires: [] },
  ]);
});

describe('lint guard: futex waits and wakes go through src/shared/atomics.ts', () => {
  const atomics = 'seams/atomics-waits';
  const a = 'const a = new Int32Array(new SharedArrayBuffer(4));\n';
  check([
    { path: 'src/synchronize/x.ts', code: `${a}Atomics.wait(a, 0, 0, 1);\n`, fires: [atomics] },
    { path: 'src/pool/x.ts', code: `${a}void Atomics.waitAsync(a, 0, 0);\n`, fires: [atomics] },
    { path: 'src/broker/x.ts', code: `${a}Atomics.notify(a, 0);\n`, fires: [atomics] },
    { path: 'src/x.ts', code: `${a}Atomics['notify'](a, 0);\n`, fires: [atomics] },
    { path: 'src/broker/x.mjs', code: `${a}Atomics.notify(a, 0);\n`, fires: [atomics] },
    { path: 'src/synchronize/x.ts', code: `${a}Atomics.store(a, 0, 1);\n`, fires: [] },
    { path: 'src/shared/atomics.ts', code: `${a}Atomics.wait(a, 0, 0, 1);\n`, fires: [] },
    { path: 'tests/x.test.ts', code: `${a}Atomics.notify(a, 0);\n`, fires: [] },
  ]);
});
