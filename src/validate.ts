// Argument checks at the public boundary, with messages that name the argument, the expectation and the value.

/** Describes a value for an error message: `-1 (number)`, `"x" (string)`, `null`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `${value.name || 'anonymous'} (function)`;
  if (typeof value === 'string') return `${JSON.stringify(value)} (string)`;
  if (typeof value === 'bigint') return `${value}n (bigint)`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name ?? 'Object';
    return `${/^[AEIO]/.test(ctor) ? 'an' : 'a'} ${ctor} (object)`;
  }
  return `${String(value)} (${typeof value})`;
}

function fail(
  Kind: typeof TypeError | typeof RangeError,
  name: string,
  expected: string,
  value: unknown,
): never {
  const err = new Kind(`Expected \`${name}\` to be ${expected}, got ${describe(value)}`);
  (err as { code?: string }).code =
    Kind === RangeError ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_ARG_TYPE';
  throw err;
}

/** Throws TypeError unless `value` is a function. */
export function checkFunction(value: unknown, name: string): asserts value is Function {
  if (typeof value !== 'function') fail(TypeError, name, 'a function', value);
}

/** Throws unless `value` is an integer ≥ `min` (TypeError for non-integers, RangeError below min). */
export function checkInteger(value: unknown, name: string, min = 0): asserts value is number {
  const expected =
    min === 1
      ? 'a positive integer'
      : min <= Number.MIN_SAFE_INTEGER
        ? 'an integer'
        : `an integer ≥ ${min}`;
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(TypeError, name, expected, value);
  if (value < min) fail(RangeError, name, expected, value);
}

/** Throws unless `value` is undefined or a number (a timeout in milliseconds; NaN rejected). */
export function checkTimeout(
  value: unknown,
  name = 'timeout',
): asserts value is number | undefined {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    fail(TypeError, name, 'a number of milliseconds or undefined', value);
  }
}

/** Throws unless `value` is undefined or a boolean. */
export function checkBoolean(value: unknown, name: string): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') fail(TypeError, name, 'a boolean', value);
}

/** Throws unless `value` is undefined or a string. */
export function checkString(value: unknown, name: string): asserts value is string | undefined {
  if (value !== undefined && typeof value !== 'string') fail(TypeError, name, 'a string', value);
}

/** Throws unless `value` is undefined or a plain object. */
export function checkOptions(value: unknown, name: string): asserts value is object | undefined {
  if (
    value !== undefined &&
    (typeof value !== 'object' || value === null || Array.isArray(value))
  ) {
    fail(TypeError, name, 'an options object', value);
  }
}

/**
 * Throws TypeError (`ERR_INVALID_ARG_VALUE`) for a key of `options` that `known` does not list,
 * so a misspelt or Python-style option (`maxtasksperchild`, `kwargs`, `chunkSize`) is not
 * silently ignored, after checking that `options` is an options object (as checkOptions). Keys
 * set to undefined are allowed (spread defaults). `hints` maps a known foreign spelling to advice.
 * @example
 * checkKnown({ chunkSize: 4 }, 'options', ['chunksize']) // throws: did you mean `chunksize`?
 */
export function checkKnown(
  options: unknown,
  name: string,
  known: readonly string[],
  hints: Readonly<Record<string, string>> = {},
): asserts options is object | undefined {
  checkOptions(options, name);
  if (options === undefined) return;
  for (const key of Object.keys(options)) {
    if (known.includes(key) || (options as Record<string, unknown>)[key] === undefined) continue;
    const flat = key.toLowerCase().replaceAll('_', '');
    const near = known.find((k) => k.toLowerCase() === flat);
    const hint = near ? `did you mean \`${near}\`?` : (hints[key] ?? null);
    const err = new TypeError(
      `Unknown option \`${key}\` in \`${name}\`${hint ? `: ${hint}` : ''} (known options: ${known.join(', ')})`,
    );
    (err as { code?: string }).code = 'ERR_INVALID_ARG_VALUE';
    throw err;
  }
}

/** Throws unless `value` is one of `allowed`. */
export function checkOneOf<T extends string>(
  value: unknown,
  name: string,
  allowed: readonly T[],
): asserts value is T {
  if (!allowed.includes(value as T))
    fail(TypeError, name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
}

/** Throws unless `value` is an array (or iterable turned into one by the caller). */
export function checkArray(value: unknown, name: string): asserts value is unknown[] {
  if (!Array.isArray(value)) fail(TypeError, name, 'an array', value);
}

/** Throws a TypeError with the house message format. */
export function invalidArg(name: string, expected: string, value: unknown): never {
  fail(TypeError, name, expected, value);
}

/** Throws a RangeError with the house message format. */
export function outOfRange(name: string, expected: string, value: unknown): never {
  fail(RangeError, name, expected, value);
}
