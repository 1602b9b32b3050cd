// How a function travels to a worker: as self-contained source, a module reference, or an explicit ref.
import { createRequire } from 'node:module';
import inspector from 'node:inspector';
import { pathToFileURL } from 'node:url';
import { PicklingError } from '../errors.ts';
import { describe } from '../validate.ts';

/** The wire form of a function. `id` is unique per function object in this thread. */
export type FnRef =
  | {
      readonly kind: 'source';
      readonly id: string;
      readonly name: string;
      readonly source: string;
      readonly method: boolean;
    }
  | {
      readonly kind: 'module';
      readonly id: string;
      readonly name: string;
      readonly url: string;
      readonly line: number;
      readonly column: number;
      readonly captured: readonly string[];
      /** False when `name` was inferred (an arrow or anonymous function assigned to a name). */
      readonly declared?: boolean;
    }
  | {
      readonly kind: 'ref';
      readonly id: string;
      readonly name: string;
      readonly url: string;
      readonly exportName: string;
    };

const kFunctionRef = Symbol.for('multiprocessing-ts.function-ref');

/**
 * An explicit reference to an exported function: `ref(moduleUrl, exportName)`.
 * Accepted wherever a function is (Process `target`, every Pool method).
 */
export interface FunctionRef<F extends (...args: any[]) => any = (...args: any[]) => any> {
  readonly [kFunctionRef]: FnRef;
  /** Type-only marker carrying the function's signature. */
  readonly __type?: F;
}

/** A function, or an explicit reference to one. */
export type Target<F extends (...args: any[]) => any> = F | FunctionRef<F>;

let counter = 0;
const prefix = `${process.pid}.${Math.random().toString(36).slice(2, 8)}.`;

/**
 * Names an exported function by module URL and export name, for code that cannot be located
 * automatically (bundled code, functions built at run time).
 * @example
 * await pool.map(mp.ref(new URL('./kernels.js', import.meta.url), 'square'), [1, 2, 3])
 */
export function ref<F extends (...args: any[]) => any = any>(
  moduleUrl: string | URL,
  exportName: string,
): FunctionRef<NoInfer<F>> {
  let url: string;
  if (moduleUrl instanceof URL) url = moduleUrl.href;
  else if (typeof moduleUrl === 'string' && moduleUrl.length > 0) {
    url =
      /^[a-z][a-z0-9+.-]*:/i.test(moduleUrl) && !/^[a-z]:[\\/]/i.test(moduleUrl)
        ? moduleUrl
        : pathToFileURL(moduleUrl).href;
  } else {
    throw new TypeError(
      `Expected \`moduleUrl\` to be a URL or a non-empty string, got ${describe(moduleUrl)}`,
    );
  }
  if (typeof exportName !== 'string' || exportName.length === 0) {
    throw new TypeError(
      `Expected \`exportName\` to be a non-empty string, got ${describe(exportName)}`,
    );
  }
  const wire: FnRef = { kind: 'ref', id: prefix + ++counter, name: exportName, url, exportName };
  return Object.freeze({ [kFunctionRef]: wire }) as FunctionRef<F>;
}

/** Whether `value` was made by {@link ref}. */
export function isFunctionRef(value: unknown): value is FunctionRef {
  return typeof value === 'object' && value !== null && kFunctionRef in value;
}

// Globals of a fresh worker realm. Snapshotted when the library loads (before user code runs
// in an ESM program), so a global the program adds later is not mistaken for a built-in.
const kRealmGlobals = new Set<string>([
  ...Object.getOwnPropertyNames(globalThis),
  'arguments',
  'undefined',
  'NaN',
  'Infinity',
  '__name', // esbuild/tsx keepNames helper, provided in the compile scope
]);
for (const notShared of ['require', 'module', 'exports', '__filename', '__dirname'])
  kRealmGlobals.delete(notShared);

const cache = new WeakMap<Function, FnRef>();

// Self-contained functions by name and source: an arrow written inside a loop is a new object
// each time (`pool.apply((i) => i + 1, [i])`), but the same code; it is parsed once and the
// worker compiles it once. Only for source-travelling functions, which capture nothing, so two
// with the same text behave the same.
const bySource = new Map<string, FnRef>();
const kBySourceLimit = 1000;

// The parser and scope analyser are loaded on first use (synchronously, through their CommonJS
// builds): most workers never reduce a function, and loading them costs a worker ~10 ms of start-up.
type Analysis = {
  parse: typeof import('acorn').parse;
  analyze: typeof import('eslint-scope').analyze;
};
let analysis: Analysis | null = null;
function loadAnalysis(): Analysis {
  if (!analysis) {
    const require = createRequire(import.meta.url);
    analysis = { parse: require('acorn').parse, analyze: require('eslint-scope').analyze };
  }
  return analysis;
}

/** Parses a function's source; returns its free identifiers, and whether it is a method shorthand. */
function freeIdentifiers(source: string): { free: string[]; method: boolean } | null {
  const { parse, analyze } = loadAnalysis();
  for (const [wrapped, method] of [
    [`(${source})`, false],
    [`({${source}})`, true],
  ] as const) {
    let ast: ReturnType<typeof parse>;
    try {
      ast = parse(wrapped, { ecmaVersion: 'latest', sourceType: 'module', ranges: true });
    } catch {
      continue;
    }
    // References that no scope of the function resolves are its free identifiers.
    const manager = analyze(ast as never, { ecmaVersion: 2022, sourceType: 'module' });
    const free = new Set(manager.globalScope!.through.map((ref) => ref.identifier.name));
    return { free: [...free], method };
  }
  return null;
}

/** Source of a `function` (declaration or expression), as opposed to an arrow or a method. */
const kFunctionKeyword = /^(?:async\s+)?function\b/;

// Where built-in functions live: a worker finds `Math.max` (or `String`, `JSON.stringify`,
// `console.log`) at the same path in its own realm, as Python's pickle finds `math.sqrt` by name.
const kBuiltinHomes = [
  'Math',
  'JSON',
  'Number',
  'String',
  'Object',
  'Array',
  'Reflect',
  'BigInt',
  'Date',
  'Atomics',
  'Promise',
  'Symbol',
  'Boolean',
  'ArrayBuffer',
  'Buffer',
  'console',
];
let builtinPaths: Map<Function, string> | null = null;

/** The global path of a built-in function (`Math.max`, `parseInt`), or null. */
function builtinPath(fn: Function): string | null {
  if (!builtinPaths) {
    builtinPaths = new Map();
    const g = globalThis as unknown as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(globalThis)) {
      const value = g[name];
      if (typeof value === 'function' && !builtinPaths.has(value)) builtinPaths.set(value, name);
    }
    for (const home of kBuiltinHomes) {
      const ns = g[home] as Record<string, unknown> | undefined;
      if (!ns) continue;
      for (const key of Object.getOwnPropertyNames(ns)) {
        const value = Object.getOwnPropertyDescriptor(ns, key)?.value;
        if (typeof value === 'function' && !builtinPaths.has(value)) {
          builtinPaths.set(value, `${home}.${key}`);
        }
      }
    }
  }
  return builtinPaths.get(fn) ?? null;
}

/** Rejects what can never travel: bound and unreachable native functions, class constructors. */
function checkTravellable(fn: Function, source: string, what: string): void {
  const label = fn.name ? `\`${fn.name}\`` : 'an anonymous function';
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    const kind = fn.name.startsWith('bound ')
      ? 'a bound function'
      : 'a native function that is not a global or a static member of one (as `Math.max` is)';
    throw new PicklingError(
      `Cannot send ${label} to a worker as ${what}: it is ${kind}, which has no source or module to load it from. ` +
        'Pass the original exported function and its extra values as arguments instead.',
    );
  }
  if (/^class[\s{]/.test(source)) {
    throw new PicklingError(
      `Cannot send ${label} to a worker as ${what}: it is a class constructor. ` +
        'Pass an exported function that creates the object, or subclass mp.Process and override run().',
    );
  }
}

/**
 * Turns a function into its wire form (cached per function object).
 * `what` names the role in messages ('the target', 'the task function').
 */
export function reduceFunction(fn: unknown, what = 'the function'): FnRef {
  if (isFunctionRef(fn)) return fn[kFunctionRef];
  if (typeof fn !== 'function') {
    throw new TypeError(`Expected ${what} to be a function or mp.ref(), got ${describe(fn)}`);
  }
  const cached = cache.get(fn);
  if (cached) return cached;
  const source = Function.prototype.toString.call(fn);
  const builtin = builtinPath(fn);
  if (builtin) {
    // The path is an expression the worker evaluates in its own realm.
    const wire: FnRef = {
      kind: 'source',
      id: prefix + ++counter,
      name: builtin,
      source: builtin,
      method: false,
    };
    cache.set(fn, wire);
    return wire;
  }
  checkTravellable(fn, source, what);
  const name = fn.name || 'anonymous';
  const key = `${name}\u0000${source}`;
  const same = bySource.get(key);
  if (same) {
    cache.set(fn, same);
    return same;
  }
  const parsed = freeIdentifiers(source);
  let wire: FnRef;
  const captured = parsed ? parsed.free.filter((id) => !kRealmGlobals.has(id)) : [];
  if (parsed && captured.length === 0) {
    wire = { kind: 'source', id: prefix + ++counter, name, source, method: parsed.method };
    // Bounded: a program that builds functions from strings must not grow this forever.
    if (bySource.size >= kBySourceLimit) bySource.clear();
    bySource.set(key, wire);
  } else {
    const loc = functionLocation(fn);
    if (!loc) {
      throw new PicklingError(
        `Cannot send \`${name}\` to a worker as ${what}: it uses ${formatList(captured)}, which a worker cannot see, ` +
          'and it was not defined in a module a worker can import (eval, REPL or native code). ' +
          'Fix: define and export it from a module, or pass those values as arguments.',
      );
    }
    wire = {
      kind: 'module',
      id: prefix + ++counter,
      name,
      url: loc.url,
      line: loc.line,
      column: loc.column,
      captured,
      declared: Boolean(parsed?.method) || kFunctionKeyword.test(source),
    };
  }
  cache.set(fn, wire);
  return wire;
}

/** Reduces a class for re-instantiation in a worker (Process subclasses); always by module reference. */
export function reduceClass(cls: Function): FnRef {
  const cached = cache.get(cls);
  if (cached) return cached;
  const loc = functionLocation(cls);
  if (!loc) {
    throw new PicklingError(
      `Cannot send class \`${cls.name}\` to a worker: it was not defined in an importable module.`,
    );
  }
  const wire: FnRef = {
    kind: 'module',
    id: prefix + ++counter,
    name: cls.name,
    url: loc.url,
    line: loc.line,
    column: loc.column,
    captured: [],
  };
  cache.set(cls, wire);
  return wire;
}

/** Formats identifiers for messages: "`a`, `b` and `c`". */
export function formatList(ids: readonly string[]): string {
  const q = ids.map((i) => `\`${i}\``);
  if (q.length <= 1) return q[0] ?? 'nothing';
  return `${q.slice(0, -1).join(', ')} and ${q.at(-1)}`;
}

// --- V8 function locations through a same-thread inspector session ---------------------------

let session: inspector.Session | null = null;
const scriptUrls = new Map<string, string>();

function post<T>(method: string, params?: object): T {
  // Same-thread sessions answer synchronously, so the callback has run when post returns.
  let result: T | undefined;
  let error: Error | null = null;
  session!.post(method, params, (err, res) => {
    error = err;
    result = res as T;
  });
  if (error) throw error;
  return result as T;
}

/** Where V8 says `fn` was defined, and the script's URL (file paths turned into file: URLs). */
export function functionLocation(
  fn: Function,
): { url: string; line: number; column: number } | null {
  if (!session) {
    session = new inspector.Session();
    session.connect();
    session.on('Debugger.scriptParsed', (m: { params: { scriptId: string; url: string } }) => {
      scriptUrls.set(m.params.scriptId, m.params.url);
    });
  }
  const key = `__mp_locate_${prefix}`;
  const g = globalThis as Record<string, unknown>;
  let loc: { scriptId: string; lineNumber: number; columnNumber: number } | undefined;
  g[key] = fn;
  try {
    const evaluated = post<{ result: { objectId?: string } }>('Runtime.evaluate', {
      expression: `globalThis[${JSON.stringify(key)}]`,
    });
    const objectId = evaluated.result.objectId;
    if (!objectId) return null;
    const props = post<{ internalProperties?: { name: string; value?: { value?: typeof loc } }[] }>(
      'Runtime.getProperties',
      {
        objectId,
        ownProperties: true,
      },
    );
    loc = props.internalProperties?.find((p) => p.name === '[[FunctionLocation]]')?.value?.value;
    post('Runtime.releaseObject', { objectId });
  } finally {
    delete g[key];
  }
  if (!loc) return null;
  if (!scriptUrls.has(loc.scriptId)) {
    // Enabling the debugger replays scriptParsed for every script; disable it again at once
    // so the program does not run with a debugger attached.
    post('Debugger.enable');
    post('Debugger.disable');
  }
  let url = scriptUrls.get(loc.scriptId) ?? '';
  if (url.startsWith('/')) url = pathToFileURL(url).href;
  if (!/^(file|data|https?):/.test(url)) return null;
  return { url, line: loc.lineNumber, column: loc.columnNumber };
}
