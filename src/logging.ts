// The library's logger: Python's `get_logger()` / `log_to_stderr()`, printing `[LEVEL/ProcessName] msg`.
import { format } from 'node:util';
import { state } from './runtime/state.ts';
import { checkOneOf } from './validate.ts';

/** Log levels by name, as Python's `logging` numbers them. */
export const kLevels = { NOTSET: 0, DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 } as const;
/** A level name or number. */
export type LogLevel = keyof typeof kLevels | 'WARN' | number;

function toNumber(level: LogLevel): number {
  if (typeof level === 'number') return level;
  if (level === 'WARN') return kLevels.WARNING;
  checkOneOf(level, 'level', Object.keys(kLevels) as (keyof typeof kLevels)[]);
  return kLevels[level];
}

function levelName(n: number): string {
  if (n >= kLevels.ERROR) return 'ERROR';
  if (n >= kLevels.WARNING) return 'WARNING';
  if (n >= kLevels.INFO) return 'INFO';
  return 'DEBUG';
}

/**
 * The `multiprocessing` logger. Silent until a handler is added with {@link logToStderr}
 * (as in Python: level NOTSET, no handler); children inherit its level and handler.
 * @example
 * const log = mp.logToStderr('INFO'); log.info('hello') // [INFO/MainProcess] hello
 */
export class Logger {
  #level = 0;
  #stderr = false;
  /** Sink for records; the default writes to stderr when enabled. */
  #sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

  /** The threshold as a number (0 = NOTSET); records below it are dropped. */
  get level(): number {
    return this.#level;
  }
  set level(level: LogLevel) {
    this.#level = toNumber(level);
  }
  /** Whether records are written to stderr. */
  get toStderr(): boolean {
    return this.#stderr;
  }
  /** @internal enables the stderr handler. */
  enableStderr(on = true): void {
    this.#stderr = on;
  }
  /** Logs at DEBUG. @example mp.getLogger().debug('x=%d', 1) */
  debug(...args: unknown[]): void {
    this.#log(kLevels.DEBUG, args);
  }
  /** Logs at INFO. @example mp.getLogger().info('started') */
  info(...args: unknown[]): void {
    this.#log(kLevels.INFO, args);
  }
  /** Logs at WARNING. @example mp.getLogger().warn('slow') */
  warn(...args: unknown[]): void {
    this.#log(kLevels.WARNING, args);
  }
  /** Logs at ERROR. @example mp.getLogger().error(err) */
  error(...args: unknown[]): void {
    this.#log(kLevels.ERROR, args);
  }
  /** Whether a record at `level` would be written. */
  isEnabledFor(level: LogLevel): boolean {
    const n = toNumber(level);
    return this.#stderr && n >= (this.#level || kLevels.WARNING);
  }
  #log(level: number, args: unknown[]): void {
    if (!this.isEnabledFor(level)) return;
    this.#sink(`[${levelName(level)}/${state().name}] ${format(...args)}`);
  }
}

const kLogger = Symbol.for('multiprocessing-ts.logger');

/**
 * Returns the library's logger (one per thread, shared by every copy of the library).
 * @example
 * mp.getLogger().level = 'DEBUG'
 */
export function getLogger(): Logger {
  const g = globalThis as { [kLogger]?: Logger };
  return (g[kLogger] ??= new Logger());
}

/**
 * Makes the logger write to stderr as `[LEVEL/ProcessName] message`, optionally setting its level;
 * workers started afterwards do the same.
 * @example
 * mp.logToStderr('INFO')
 */
export function logToStderr(level?: LogLevel): Logger {
  const logger = getLogger();
  if (level !== undefined) logger.level = level;
  logger.enableStderr(true);
  return logger;
}
