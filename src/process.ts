// Process: start a function (or a subclass's run()) in a worker, with Python's names, states and exit codes.
import { inspect } from 'node:util';
import { serialize } from 'node:v8';
import type { ResourceLimits } from 'node:worker_threads';
import { capabilitiesOf } from './backends/index.ts';
import type { LocalMethod, Transferable, WorkerHandle } from './backends/types.ts';
import { BootstrapError, InvalidStateError } from './errors.ts';
import { getLogger } from './logging.ts';
import { checkKnownOptions } from './pool/options.ts';
import { type Target, reduceClass, reduceFunction } from './reduction/functions.ts';
import { cloneError, encode } from './reduction/values.ts';
import type { ProcessJob } from './process-job.ts';
import { spawnWorker } from './runtime/spawn.ts';
import { fixMethod } from './runtime/start-method.ts';
import { currentIdent, nextIdentity, state } from './runtime/state.ts';
import { checkBoolean, checkOptions, checkString, checkTimeout, invalidArg } from './validate.ts';

/** Options of {@link Process}. */
export interface ProcessOptions<A extends unknown[] = unknown[]> {
  /** The function to run; it may be async (awaited). Omit it when a subclass overrides `run()`. */
  target?: Target<(...args: A) => unknown> | undefined;
  /** Arguments for `target`; structured-cloned, library objects travel as handles. */
  args?: A | undefined;
  /** Defaults to `Process-N` (`Process-1:2` inside `Process-1`). */
  name?: string | undefined;
  /** Daemonic processes are terminated when their parent exits and cannot start children. Defaults to the parent's flag. */
  daemon?: boolean | undefined;
  /** Environment of the worker (a thread gets its own copy of `process.env`). */
  env?: Record<string, string | undefined> | undefined;
  /** Extra Node flags for the worker. */
  execArgv?: string[] | undefined;
  /** Memory and stack limits (threads: Node's resourceLimits; processes: the matching V8 flags). */
  resourceLimits?: ResourceLimits | undefined;
}

const kProcessOptionKeys = [
  'target',
  'args',
  'name',
  'daemon',
  'env',
  'execArgv',
  'resourceLimits',
] as const;

/** A bound context class sets this to fix its start method. */
export const kContextMethod = Symbol.for('multiprocessing-ts.context-method');
/** Internal constructor marker: rebuild a subclass instance in its worker without running constructors. */
export const kRevive = Symbol('revive');

type Status = 'initial' | 'started' | 'closed';

/** Python's "bootstrapping phase" error, raised when a module being imported by a worker starts workers. */
export function bootstrapError(what: string): BootstrapError {
  return new BootstrapError(
    `An attempt has been made to start a new ${what} before the current worker has finished its bootstrapping phase.\n\n` +
      'The worker imported your module to find its target function, and the module started a new worker at top level. ' +
      "Guard the program's main code so that it runs only in the main process:\n\n" +
      '    if (mp.isMainProcess()) {\n      // start processes and pools here\n    }\n',
  );
}

/** Common start checks for anything that starts workers (Process, Pool). */
export function checkMayStartWorkers(what: string): void {
  const s = state();
  if (s.bootstrapping > 0) throw bootstrapError(what);
  if (s.daemon) {
    throw new InvalidStateError(
      'daemonic processes are not allowed to have children',
      'ERR_DAEMON_CHILDREN',
    );
  }
}

/**
 * A unit of work run in its own worker (a thread, or a child process), as Python's
 * `multiprocessing.Process`. Exit codes: 0 normal, 1 uncaught error, n for `process.exit(n)`,
 * −15 after `terminate()`, −9 after `kill()`.
 * @example
 * const p = new mp.Process({ target: (n: number) => console.log(n * 2), args: [21] })
 * p.start()
 * await p.join()
 * console.log(p.exitCode) // 0
 */
export class Process<A extends unknown[] = unknown[]> {
  /** Set on context-bound subclasses (`ctx.Process`). */
  static readonly [kContextMethod]: LocalMethod | undefined = undefined;

  #target: Target<(...args: A) => unknown> | undefined;
  #args: A;
  #name: string;
  #identity: number[];
  #daemon: boolean | undefined;
  #options: Pick<ProcessOptions<A>, 'env' | 'execArgv' | 'resourceLimits'>;
  #status: Status = 'initial';
  #handle: WorkerHandle | null = null;
  #exitCode: number | null = null;
  #sentinel: Promise<void> | null = null;
  #inWorker = false;
  /** join() calls waiting: a daemonic worker is unref'd, so a pending join must keep Node alive. */
  #joiners = 0;

  constructor(options: ProcessOptions<A> = {}) {
    if ((options as unknown) === kRevive) {
      // Rebuilt in its own worker: describes the current process.
      this.#name = state().name;
      this.#identity = state().identity;
      this.#daemon = state().daemon;
      this.#args = [] as unknown as A;
      this.#options = {};
      this.#status = 'started';
      this.#inWorker = true;
      return;
    }
    checkKnownOptions(options, 'options', kProcessOptionKeys);
    const { target, args, name, daemon, env, execArgv, resourceLimits } = options;
    if (
      target !== undefined &&
      typeof target !== 'function' &&
      (typeof target !== 'object' || target === null)
    ) {
      invalidArg('target', 'a function or mp.ref()', target);
    }
    if (args !== undefined && !Array.isArray(args))
      invalidArg('args', 'an array of arguments', args);
    checkString(name, 'name');
    checkBoolean(daemon, 'daemon');
    if (
      execArgv !== undefined &&
      !(Array.isArray(execArgv) && execArgv.every((a) => typeof a === 'string'))
    ) {
      invalidArg('execArgv', 'an array of strings', execArgv);
    }
    checkOptions(env, 'env');
    checkOptions(resourceLimits, 'resourceLimits');
    this.#target = target;
    this.#args = (args ?? []) as A;
    this.#daemon = daemon;
    this.#options = { env, execArgv, resourceLimits };
    this.#identity = nextIdentity();
    this.#name = name ?? `${this.#defaultPrefix()}-${this.#identity.join(':')}`;
  }

  #defaultPrefix(): string {
    const ctor = this.constructor as Function;
    // Context-bound and anonymous classes keep Python's plain name.
    return ctor === Process ||
      Object.prototype.hasOwnProperty.call(ctor, kContextMethod) ||
      !ctor.name
      ? 'Process'
      : ctor.name;
  }

  #checkOpen(): void {
    if (this.#status === 'closed')
      throw new InvalidStateError('process object is closed', 'ERR_CLOSED');
  }

  /** The process's name; not unique, used in logs and error reports. */
  get name(): string {
    return this.#name;
  }
  set name(value: string) {
    if (typeof value !== 'string') invalidArg('name', 'a string', value);
    this.#name = value;
  }

  /** Whether the process is daemonic (inherited from the creator unless set before `start()`). */
  get daemon(): boolean {
    return this.#daemon ?? state().daemon;
  }
  set daemon(value: boolean) {
    if (this.#status !== 'initial' || this.#inWorker) {
      throw new InvalidStateError('process has already started', 'ERR_ALREADY_STARTED');
    }
    checkBoolean(value, 'daemon');
    this.#daemon = value;
  }

  /** The exit code, or null before start and while running. */
  get exitCode(): number | null {
    this.#checkOpen();
    return this.#exitCode;
  }

  /** The worker's process id (a thread worker shares this process's pid); undefined before start. */
  get pid(): number | undefined {
    this.#checkOpen();
    if (this.#inWorker) return process.pid;
    return this.#handle?.pid;
  }

  /** The worker's id: its thread id for a thread, its pid for a process; undefined before start. */
  get ident(): number | undefined {
    this.#checkOpen();
    if (this.#inWorker) return currentIdent();
    return this.#handle?.ident;
  }

  /** Settles when the process has ended (never rejects). */
  get sentinel(): Promise<void> {
    this.#checkOpen();
    if (!this.#sentinel) throw new InvalidStateError('process not started', 'ERR_NOT_STARTED');
    return this.#sentinel;
  }

  /**
   * The code run in the worker: calls `target(...args)`. Override it in an exported subclass;
   * the instance's own enumerable fields are cloned to the worker.
   */
  run(): unknown {
    const target = this.#target;
    if (typeof target === 'function') return target(...this.#args);
    return undefined;
  }

  /** Starts the worker. Throws if already started, closed, daemonic-with-children, or unguarded at import. */
  start(): void {
    this.#checkOpen();
    if (this.#status !== 'initial' || this.#inWorker) {
      throw new InvalidStateError('cannot start a process twice', 'ERR_ALREADY_STARTED');
    }
    checkMayStartWorkers('process');
    const method = (this.constructor as typeof Process)[kContextMethod] ?? fixMethod();
    const job = this.#job(method);
    if (!capabilitiesOf(method).sharesMemory) {
      // IPC serializes later, asynchronously: check now so a bad argument throws from start().
      try {
        serialize(job.job);
      } catch (e) {
        throw cloneError(e, `the target of ${this.#name}`, this.#args);
      }
    }
    const s = state();
    let resolveSentinel!: () => void;
    this.#sentinel = new Promise<void>((resolve) => (resolveSentinel = resolve));
    try {
      this.#handle = spawnWorker('process', job.job, {
        method,
        name: this.#name,
        identity: this.#identity,
        daemon: this.daemon,
        transfer: job.transfer,
        ...this.#options,
        events: {
          message: () => {},
          exit: (code) => {
            this.#exitCode = code;
            this.#handle = this.#handle && Object.freeze({ ...this.#handle });
            s.children.delete(this);
            getLogger().debug(`${this.#name} exited with exitcode ${code}`);
            resolveSentinel();
          },
        },
      });
    } catch (e) {
      this.#sentinel = null;
      if (e instanceof Error && e.name === 'DataCloneError')
        throw cloneError(e, `the target of ${this.#name}`, this.#args);
      throw e;
    }
    this.#status = 'started';
    if (this.daemon) this.#handle.unref();
    s.children.add(this);
    getLogger().debug(`started ${this.#name} (${method})`);
  }

  #job(method: LocalMethod): { job: ProcessJob; transfer: Transferable[] } {
    const overridden = this.run !== Process.prototype.run;
    if (overridden) {
      const cls = reduceClass(this.constructor as Function);
      const fields = encode({ ...this }, capabilitiesOf(method));
      return {
        job: {
          kind: 'process',
          target: null,
          args: [],
          walked: false,
          subclass: { cls, fields: fields.value, walked: fields.walked },
        },
        transfer: fields.transfer,
      };
    }
    const target = this.#target === undefined ? null : reduceFunction(this.#target, 'the target');
    const args = encode(this.#args, capabilitiesOf(method));
    return {
      job: { kind: 'process', target, args: args.value, walked: args.walked, subclass: null },
      transfer: args.transfer,
    };
  }

  /**
   * Waits until the process ends, or `timeout` ms pass (then it returns with the process still
   * alive: check `exitCode`). Resolves to undefined, as Python's join returns None.
   */
  async join(timeout?: number): Promise<void> {
    this.#checkOpen();
    checkTimeout(timeout);
    if (this.#inWorker)
      throw new InvalidStateError('cannot join the current process', 'ERR_NOT_STARTED');
    if (!this.#sentinel)
      throw new InvalidStateError('can only join a started process', 'ERR_NOT_STARTED');
    if (this.#exitCode !== null) return;
    if (timeout !== undefined && timeout !== Infinity && timeout <= 0) return;
    // A daemonic worker does not keep Node alive, but someone waiting for it must: without this,
    // `await p.join()` on a daemon ended the program (exit code 13, unsettled top-level await).
    if (this.#joiners++ === 0 && this.daemon) this.#handle!.ref();
    let timer: NodeJS.Timeout | undefined;
    try {
      if (timeout === undefined || timeout === Infinity) await this.#sentinel;
      else {
        await Promise.race([
          this.#sentinel,
          new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout))),
        ]);
      }
    } finally {
      clearTimeout(timer);
      if (--this.#joiners === 0 && this.daemon && this.#exitCode === null) this.#handle?.unref();
    }
  }

  /** Whether the process has started and not yet ended. */
  isAlive(): boolean {
    this.#checkOpen();
    if (this.#inWorker) return true;
    return this.#handle !== null && this.#exitCode === null;
  }

  /** Stops the worker (SIGTERM for a process); exit code −15. A no-op once it has ended. */
  terminate(): void {
    this.#checkOpen();
    this.#requireStarted();
    if (this.#exitCode === null) this.#handle!.terminate();
  }

  /** Stops the worker at once (SIGKILL for a process); exit code −9. A no-op once it has ended. */
  kill(): void {
    this.#checkOpen();
    this.#requireStarted();
    if (this.#exitCode === null) this.#handle!.kill();
  }

  #requireStarted(): void {
    if (!this.#handle) throw new InvalidStateError('process not started', 'ERR_NOT_STARTED');
  }

  /** Releases the process object; most methods then throw. Throws while the process runs. */
  close(): void {
    if (this.#status === 'closed') return;
    if (this.#handle && this.#exitCode === null) {
      throw new InvalidStateError(
        'Cannot close a process while it is still running. You should first call join() or terminate().',
        'ERR_STILL_RUNNING',
      );
    }
    this.#status = 'closed';
    this.#handle = null;
  }

  /** Python's repr: `<Process name='Process-1' pid=42 parent=41 started>`. */
  toString(): string {
    const cls = this.#defaultPrefix();
    if (this.#status === 'closed') return `<${cls} name='${this.#name}' closed>`;
    const parts = [`<${cls} name='${this.#name}'`];
    if (this.#handle) parts.push(`pid=${this.#handle.pid}`);
    parts.push(`parent=${process.pid}`);
    if (!this.#handle) parts.push('initial');
    else if (this.#exitCode === null) parts.push('started');
    else {
      const signal =
        this.#exitCode < 0
          ? ({ [-15]: '-SIGTERM', [-9]: '-SIGKILL' } as Record<number, string>)[this.#exitCode]
          : null;
      parts.push(`stopped exitcode=${signal ?? this.#exitCode}`);
    }
    if (this.daemon) parts.push('daemon');
    return parts.join(' ') + '>';
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
