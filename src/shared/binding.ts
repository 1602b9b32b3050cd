// Binding primitives to a context's core provider: which provider a primitive being constructed uses.
//
// As CPython gives every primitive its context, `new ctx.Lock()` makes its core with `ctx`'s
// provider (its memory, its way of travelling). A context's classes are subclasses whose
// constructor runs the base constructor inside the provider's scope, and its functions (Value,
// Array, Pipe…) run inside it too; everything made during that synchronous construction — a
// Condition's own RLock, a Value's lock, a Queue's channel — comes from the same provider.
// Outside any scope, the default context's provider is used (module-level `mp.Lock`).
import { localProvider, type CoreProvider } from './provider.ts';

let current: CoreProvider | null = null;
let resolveDefault: () => CoreProvider = localProvider;

/**
 * Sets how the default provider is found (the default context's; context.ts sets it).
 * @example
 * setDefaultProvider(() => getContext().cores)
 */
export function setDefaultProvider(resolve: () => CoreProvider): void {
  resolveDefault = resolve;
}

/**
 * The provider a primitive constructed now must use: the innermost scope's, else the default.
 * @example
 * const memory = activeProvider().memory
 */
export function activeProvider(): CoreProvider {
  return current ?? resolveDefault();
}

/**
 * Runs `fn` with `provider` as the active provider (synchronously; scopes nest).
 * @example
 * const v = withProvider(ctx.cores, () => Value('i', 0))
 */
export function withProvider<T>(provider: CoreProvider, fn: () => T): T {
  const previous = current;
  current = provider;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/**
 * A subclass of `cls` whose instances are made with `provider`; same name, and instances are
 * still `instanceof cls`.
 * @example
 * readonly Lock = bindClass(Lock, provider)
 */
export function bindClass<C extends new (...args: any[]) => object>(
  cls: C,
  provider: CoreProvider,
): C {
  const bound = class extends cls {
    // Any instance of the primitive is one of every context's class, as when they were one class.
    static override [Symbol.hasInstance](value: unknown): boolean {
      return value instanceof cls;
    }
    constructor(...args: any[]) {
      const previous = current;
      current = provider;
      try {
        super(...args);
      } finally {
        current = previous;
      }
    }
  };
  Object.defineProperty(bound, 'name', { value: cls.name });
  return bound;
}

/**
 * `fn` running inside `provider`'s scope, for the primitives that are functions (Value, Pipe…).
 * @example
 * readonly Value = bindFunction(Value, provider)
 */
export function bindFunction<F extends (...args: any[]) => unknown>(
  fn: F,
  provider: CoreProvider,
): F {
  const bound = (...args: Parameters<F>): ReturnType<F> =>
    withProvider(provider, () => fn(...args) as ReturnType<F>);
  Object.defineProperty(bound, 'name', { value: fn.name });
  return bound as F;
}
