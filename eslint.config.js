// Lint rules for the library, its tests, examples and benchmarks.
import js from '@eslint/js';
import { builtinRules } from 'eslint/use-at-your-own-risk';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The library's seams, as lint guards. Each guard is ESLint's own no-restricted-imports or
// no-restricted-syntax under a name of its own (plugin `seams`): options of one rule do not merge
// across config blocks, so guards with overlapping folders need separate rule names. A name of
// its own also lets a file silence one guard on one line without silencing the others.
const restrictedImports = builtinRules.get('no-restricted-imports');
const restrictedSyntax = builtinRules.get('no-restricted-syntax');
const seams = {
  rules: {
    'primitive-imports': restrictedImports,
    'primitive-dynamic-imports': restrictedSyntax,
    'root-index-imports': restrictedImports,
    'root-index-dynamic-imports': restrictedSyntax,
    'method-literals': restrictedSyntax,
    'atomics-waits': restrictedSyntax,
  },
};

const kSource = ['src/**/*.{ts,mts,js,mjs}'];
// The shared primitives: they reach shared state through their core and the context's provider.
const kPrimitives = [
  'src/synchronize/**',
  'src/queues/**',
  'src/queues.ts',
  'src/connection.ts',
  'src/shared-types.ts',
  'src/shared-array.ts',
  'src/shared-memory.ts',
  'src/shareable-list.ts',
  'src/synchronize.ts',
];
// A relative import of the broker folder (`./broker/…` from src, `../broker/…` below it). Selector
// regexes cannot hold a slash (esquery ends them there), so the path separator is written \x2F.
const kBrokerPath = '^(\\.\\x2F|(\\.\\.\\x2F)+)broker(\\x2F|$)';
const kBrokerMessage =
  'A primitive reaches shared state through its core and its context, never src/broker/.';
const kIndexMessage =
  'Internal modules never import src/index.ts (the public surface): import the module that defines the name.';
const kMethodMessage =
  'Compare capabilities (capabilitiesOf(method).sharesMemory…), not start-method names: only src/backends/ and src/context.ts know them.';
const kEquality = 'BinaryExpression[operator=/^[!=]==?$/]';
const kMethodName = '/^(thread|process)$/';

/** The relative paths that name src/index.ts from a file `depth` folders below src. */
function rootIndexPaths(depth) {
  const up = depth === 0 ? './' : '../'.repeat(depth);
  return [`${up}index`, `${up}index.ts`, `${up}index.js`];
}

/** Guards against importing src/index.ts from files `depth` folders below src (0: src itself). */
function rootIndexGuard(files, depth) {
  const paths = rootIndexPaths(depth);
  const literal = `/^(${paths.map((p) => p.replace(/\./g, '\\.').replace(/\//g, '\\x2F')).join('|')})$/`;
  return {
    files,
    ignores: ['src/index.ts'],
    rules: {
      'seams/root-index-imports': [
        'error',
        { paths: paths.map((name) => ({ name, message: kIndexMessage })) },
      ],
      'seams/root-index-dynamic-imports': [
        'error',
        { selector: `ImportExpression > Literal.source[value=${literal}]`, message: kIndexMessage },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'docs/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { seams },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-this-alias': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // Primitives never import the broker (statically or dynamically).
  {
    files: kPrimitives,
    rules: {
      'seams/primitive-imports': [
        'error',
        { patterns: [{ regex: kBrokerPath, message: kBrokerMessage }] },
      ],
      'seams/primitive-dynamic-imports': [
        'error',
        {
          selector: `ImportExpression > Literal.source[value=/${kBrokerPath}/]`,
          message: kBrokerMessage,
        },
      ],
    },
  },
  // Internal modules never import the root's index.ts. Its relative path depends on the
  // importing file's depth, so `./index.ts` inside src/backends (its own index) stays allowed.
  rootIndexGuard(['src/*.{ts,mts,js,mjs}'], 0),
  rootIndexGuard(['src/*/*.{ts,mts,js,mjs}'], 1),
  rootIndexGuard(['src/*/*/*.{ts,mts,js,mjs}'], 2),
  rootIndexGuard(['src/*/*/*/*.{ts,mts,js,mjs}'], 3),
  // Only the context and backend layer compares start-method names.
  {
    files: kSource,
    ignores: ['src/backends/**', 'src/context.ts'],
    rules: {
      'seams/method-literals': [
        'error',
        { selector: `${kEquality} > Literal[value=${kMethodName}]`, message: kMethodMessage },
        {
          selector: `${kEquality} > TemplateLiteral[expressions.length=0][quasis.0.value.cooked=${kMethodName}]`,
          message: kMethodMessage,
        },
        { selector: `SwitchCase > Literal.test[value=${kMethodName}]`, message: kMethodMessage },
      ],
    },
  },
  // Every futex wait and wake goes through the one wake-up seam.
  {
    files: kSource,
    ignores: ['src/shared/atomics.ts'],
    rules: {
      'seams/atomics-waits': [
        'error',
        {
          selector:
            'MemberExpression[object.name="Atomics"][property.name=/^(wait|waitAsync|notify)$/]',
          message:
            'Wait and wake through src/shared/atomics.ts (waitSync, waitAsync, notify): the wake-up seam a context can replace.',
        },
        {
          selector:
            'MemberExpression[object.name="Atomics"][computed=true][property.value=/^(wait|waitAsync|notify)$/]',
          message: 'Wait and wake through src/shared/atomics.ts, not Atomics directly.',
        },
      ],
    },
  },
);
