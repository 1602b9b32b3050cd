// The worker side of function travel: compile shipped source, or import the module and find the export.
import { findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PicklingError } from '../errors.ts';
import { ensureTypeScript, isTypeScriptUrl } from '../backends/ts-support.mjs';
import { state } from '../runtime/state.ts';
import { type FnRef, formatList, functionLocation } from './functions.ts';

const compiled = new Map<string, Promise<Function>>();

// esbuild/tsx wrap functions in __name(fn, "x") to keep names; provide it to shipped source.
const nameHelper = (target: Function, value: string) =>
  Object.defineProperty(target, 'name', { value, configurable: true });

function compile(ref: Extract<FnRef, { kind: 'source' }>): Function {
  const body = ref.method ? `return Object.values({${ref.source}})[0];` : `return (${ref.source});`;
  // Name the compiled code in stack traces ("at f (mp-source:f:1:20)") instead of "eval at compile".
  return new Function('__name', `${body}\n//# sourceURL=mp-source:${ref.name}`)(
    nameHelper,
  ) as Function;
}

/** Imports a module while marking the worker as bootstrapping (Python's spawn phase). */
export async function importModule(url: string): Promise<Record<string, unknown>> {
  await ensureTypeScript(url);
  const s = state();
  s.bootstrapping += 1;
  try {
    return (await import(url)) as Record<string, unknown>;
  } finally {
    s.bootstrapping -= 1;
  }
}

function candidates(ns: Record<string, unknown>): [string, Function][] {
  const out: [string, Function][] = [];
  for (const [key, value] of Object.entries(ns))
    if (typeof value === 'function') out.push([key, value]);
  // A CommonJS module (or a .ts file tsx compiled as CommonJS) puts its exports on `default`.
  const def = ns.default;
  if (def && (typeof def === 'object' || typeof def === 'function')) {
    for (const [key, value] of Object.entries(def))
      if (typeof value === 'function') out.push([`default.${key}`, value]);
  }
  return out;
}

async function resolveModule(ref: Extract<FnRef, { kind: 'module' }>): Promise<Function> {
  const ns = await importModule(ref.url);
  const all = candidates(ns);
  // Same source location first (aliases and default exports), then the same name.
  for (const [, fn] of all) {
    const loc = functionLocation(fn);
    if (loc && loc.line === ref.line && loc.column === ref.column) return fn;
  }
  const byName = all.find(([key, fn]) => key === ref.name || fn.name === ref.name);
  if (byName) return byName[1];
  throw new PicklingError(notExportedMessage(ref));
}

/**
 * ` at line L, column C` (1-based) of a position V8 gave in compiled code, mapped back to the
 * source when the module has a source map (tsx compiles a .ts file onto other lines); empty when
 * the position cannot be trusted.
 */
function sourcePosition(url: string, line: number, column: number): string {
  const at = (l: number, c: number) => ` at line ${l + 1}, column ${c + 1}`;
  try {
    const map = url.startsWith('file:') ? findSourceMap(fileURLToPath(url)) : undefined;
    if (map) {
      const entry = map.findEntry(line, column) as {
        originalLine?: number;
        originalColumn?: number;
      };
      if (entry.originalLine === undefined || entry.originalColumn === undefined) return '';
      return at(entry.originalLine, entry.originalColumn);
    }
  } catch {
    return '';
  }
  return isTypeScriptUrl(url) ? '' : at(line, column);
}

/** Why a function found by module reference cannot be loaded in a worker, and the two fixes. */
function notExportedMessage(ref: Extract<FnRef, { kind: 'module' }>): string {
  const where = sourcePosition(ref.url, ref.line, ref.column);
  const named = ref.name !== 'anonymous';
  const what = named ? `\`${ref.name}\`` : 'an anonymous function';
  const uses = ref.captured.length
    ? `it uses ${formatList(ref.captured)}, which a worker cannot see, and `
    : '';
  // Imports and module-level values are visible to a top-level export: moving it there is always
  // a fix. Passing the values as arguments is the other (functions and classes cannot be passed).
  const move =
    named && ref.declared !== false
      ? `define it at the top level of that module and export \`${ref.name}\``
      : named
        ? `define it at the top level of that module as an export (\`export const ${ref.name} = …\`)`
        : 'define it at the top level of that module as an exported function (`export function name(…) {…}`)';
  const scope = ref.captured.length
    ? " (there it may use the module's imports and top-level values)"
    : '';
  const pass = ref.captured.length
    ? `, or pass ${formatList(ref.captured)} as arguments so that it is self-contained`
    : '';
  return (
    `Cannot send ${what} (defined in ${ref.url}) to a worker: ${uses}it is not a top-level export of its module (it is defined${where || ' inside it'}). ` +
    `Fix: ${move}${scope}${pass}.`
  );
}

async function resolveRef(ref: Extract<FnRef, { kind: 'ref' }>): Promise<Function> {
  const ns = await importModule(ref.url);
  const found =
    ns[ref.exportName] ?? (ns.default as Record<string, unknown> | undefined)?.[ref.exportName];
  if (typeof found !== 'function') {
    throw new PicklingError(
      `mp.ref(): module ${ref.url} has no exported function \`${ref.exportName}\` (found ${typeof found}).`,
    );
  }
  return found;
}

// Revivals in progress: objects revived with a task's arguments (a Barrier's action) start some,
// and the runtime waits for them before it calls the target, so they are ready for sync use.
const inFlight = new Set<Promise<unknown>>();

/** Resolves once every function revival started so far has settled. */
export async function settleRevivals(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}

/** Turns a wire form back into the function (cached per id for the life of the worker). */
export function reviveFunction(ref: FnRef): Promise<Function> {
  let p = compiled.get(ref.id);
  if (!p) {
    p =
      ref.kind === 'source'
        ? Promise.resolve().then(() => compile(ref))
        : ref.kind === 'module'
          ? resolveModule(ref)
          : resolveRef(ref);
    compiled.set(ref.id, p);
    const settled: Promise<unknown> = p.then(
      (): unknown => inFlight.delete(settled),
      (): unknown => inFlight.delete(settled),
    );
    inFlight.add(settled);
  }
  return p;
}
