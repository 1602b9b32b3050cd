// How errors cross the boundary: class, name, message, code, own properties, cause and remote stack.
import * as lib from '../errors.ts';
import { RemoteTraceback } from '../errors.ts';

/** The wire form of a thrown value. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string;
  readonly props: Record<string, unknown>;
  readonly cause?: SerializedError | { readonly value: unknown };
  /** Set when the thrown value was not an Error at all. */
  readonly thrownValue?: { readonly value: unknown };
  /** An AggregateError's `errors`, each serialized the same way. */
  readonly errors?: readonly SerializedError[];
}

const kBuiltins: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};
const kLibrary = new Map<string, Function>(
  Object.values(lib)
    .filter((v) => typeof v === 'function' && v.prototype instanceof Error)
    .map((c) => [c.name, c]),
);

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** Serializes anything thrown (an Error or not), depth-limited through `cause`. */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    const value = cloneable(error) ? error : String(error);
    return { name: 'Error', message: String(error), stack: '', props: {}, thrownValue: { value } };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === 'message' || key === 'stack' || key === 'cause') continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (cloneable(value)) props[key] = value;
  }
  // `code` is a getter-less own property on most errors but a field on ours: keep it either way.
  const code = (error as { code?: unknown }).code;
  if (code !== undefined && cloneable(code)) props.code = code;
  let cause: SerializedError['cause'];
  if ('cause' in error && error.cause !== undefined) {
    cause =
      error.cause instanceof Error && depth < 8
        ? serializeError(error.cause, depth + 1)
        : { value: cloneable(error.cause) ? error.cause : String(error.cause) };
  }
  // An AggregateError keeps its `errors` in a non-enumerable own property: carry them explicitly.
  const errors =
    error instanceof AggregateError && Array.isArray(error.errors) && depth < 8
      ? error.errors.map((e: unknown) => serializeError(e, depth + 1))
      : undefined;
  return {
    name: error.name,
    message: error.message,
    stack: error.stack ?? '',
    props,
    ...(cause ? { cause } : {}),
    ...(errors ? { errors } : {}),
  };
}

function isSerialized(c: SerializedError['cause']): c is SerializedError {
  return typeof c === 'object' && c !== null && 'stack' in c;
}

/**
 * Rebuilds an error: built-in and library classes as themselves, others as an Error with the
 * same `name`; the remote stack becomes `cause` = RemoteTraceback (whose own cause is the
 * original cause), as Python chains them.
 */
export function deserializeError(s: SerializedError): unknown {
  if (s.thrownValue) return s.thrownValue.value;
  const Builtin = kBuiltins[s.name];
  const Library = kLibrary.get(s.name);
  const err: Error = Library
    ? Object.create(Library.prototype)
    : s.errors
      ? new AggregateError(s.errors.map(rebuildCause), s.message)
      : new (Builtin ?? Error)(s.message);
  if (Library)
    Object.defineProperty(err, 'message', { value: s.message, writable: true, configurable: true });
  if (!Builtin && !Library && !(s.errors && s.name === 'AggregateError'))
    Object.defineProperty(err, 'name', {
      value: s.name,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  for (const [k, v] of Object.entries(s.props)) {
    Object.defineProperty(err, k, {
      value: v,
      writable: true,
      configurable: true,
      enumerable: k !== 'code' || !Library,
    });
  }
  const originalCause =
    s.cause === undefined
      ? undefined
      : isSerialized(s.cause)
        ? rebuildCause(s.cause)
        : s.cause.value;
  const tb = new RemoteTraceback(
    s.stack,
    originalCause === undefined ? undefined : { cause: originalCause },
  );
  Object.defineProperty(err, 'cause', {
    value: tb,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  const localFrames = (new Error().stack ?? '').split('\n').slice(2).join('\n');
  Object.defineProperty(err, 'stack', {
    value: `${s.stack || `${s.name}: ${s.message}`}\n    --- re-raised in ${process.pid} ---\n${localFrames}`,
    writable: true,
    configurable: true,
  });
  return err;
}

function rebuildCause(s: SerializedError): unknown {
  const err = deserializeError(s) as Error;
  // A cause's own remote stack is already its stack; drop the extra traceback layer.
  if (err instanceof Error && err.cause instanceof RemoteTraceback) {
    const inner = err.cause.cause;
    Object.defineProperty(err, 'cause', {
      value: inner,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    if (inner === undefined) delete (err as { cause?: unknown }).cause;
    err.stack = s.stack;
  }
  return err;
}
