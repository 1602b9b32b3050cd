// The registry of start methods: each backend registers once, with the capabilities the rest of the library asks about.
import { invalidArg } from '../validate.ts';
import type { CoreProvider } from '../shared/provider.ts';
import type { Backend, LocalMethod } from './types.ts';

/**
 * What a start method's workers can do, as seen from the code that starts them or sends them
 * values. Code outside `backends/` and `context.ts` asks these instead of comparing method names.
 */
export interface Capabilities {
  /**
   * Workers share this process's memory: a `SharedArrayBuffer` sent to one arrives as the same
   * memory, so a primitive travels as its buffers rather than as a handle.
   */
  readonly sharesMemory: boolean;
  /** Workers run on this machine (they can reach its files, sockets and shared memory objects). */
  readonly sameHost: boolean;
  /** Messages to workers can move `ArrayBuffer`s and ports instead of copying them. */
  readonly canTransfer: boolean;
  /**
   * A worker's `*Sync` calls on shared state run in the worker itself, without a round trip to
   * another thread or process.
   */
  readonly syncCalls: boolean;
  /**
   * Each worker is an OS process of its own: it has its own pid, can be signalled, and dies
   * alone (a stop is a signal that may need a grace period to take effect).
   */
  readonly ownProcess: boolean;
}

/** One registered start method. */
export interface BackendEntry {
  /** The start method's name, as users pass it to `getContext`. */
  readonly method: LocalMethod;
  /** What its workers can do. */
  readonly capabilities: Capabilities;
  /** The backend that starts its workers. */
  readonly backend: Backend;
  /**
   * The core provider of its primitives: where their memory comes from and how they reach its
   * workers (asked on first use, so a provider that needs set-up can decide then).
   */
  cores(): CoreProvider;
}

const entries = new Map<LocalMethod, BackendEntry>();

/**
 * Registers a start method (once, at module load of `backends/index.ts`).
 * @example
 * registerBackend({ method: 'thread', capabilities: kThreadCapabilities, backend: threadBackend })
 */
export function registerBackend(entry: BackendEntry): void {
  if (entries.has(entry.method))
    throw new Error(`assertion failed: start method '${entry.method}' registered twice`);
  entries.set(entry.method, Object.freeze({ ...entry }));
}

/**
 * The registered start methods, in registration order (the first is the default).
 * @example
 * registeredMethods() // ['thread', 'process']
 */
export function registeredMethods(): readonly LocalMethod[] {
  return [...entries.keys()];
}

/**
 * The entry of `method`; an unknown method is an internal error (public input is checked with
 * {@link checkMethod} first).
 * @example
 * backendEntry('process').backend.spawn(options, events)
 */
export function backendEntry(method: LocalMethod): BackendEntry {
  const entry = entries.get(method);
  if (!entry) throw new Error(`assertion failed: no backend registered for '${String(method)}'`);
  return entry;
}

/**
 * The capabilities of `method`'s workers.
 * @example
 * if (capabilitiesOf(method).canTransfer) transferList.push(buffer)
 */
export function capabilitiesOf(method: LocalMethod): Capabilities {
  return backendEntry(method).capabilities;
}

/**
 * Checks that `value` names a registered start method, throwing a TypeError that names the
 * argument and lists the methods otherwise.
 * @example
 * checkMethod(options.context, 'context')
 */
export function checkMethod(value: unknown, name: string): asserts value is LocalMethod {
  if (typeof value !== 'string' || !entries.has(value as LocalMethod))
    invalidArg(name, `one of ${[...entries.keys()].map((m) => `'${m}'`).join(', ')}`, value);
}

/**
 * The start method named by a `context` option: a Context (anything with a registered
 * `method`), a method name, or undefined for the default. Anything else is a TypeError naming
 * `name`.
 * @example
 * methodOfContext(mp.getContext('process'), 'context') // 'process'
 */
export function methodOfContext(context: unknown, name = 'context'): LocalMethod | undefined {
  if (context === undefined || context === null) return undefined;
  const method =
    typeof context === 'object' ? (context as { method?: unknown }).method : (context as unknown);
  if (typeof method === 'string' && entries.has(method as LocalMethod))
    return method as LocalMethod;
  return invalidArg(
    name,
    `a Context or one of ${[...entries.keys()].map((m) => `'${m}'`).join(', ')}`,
    context,
  );
}
