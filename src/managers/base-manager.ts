// BaseManager: starts an object server in a worker, registers shared types and creates their proxies.
import { randomBytes } from 'node:crypto';
import { serialize } from 'node:v8';
import { capabilitiesOf, methodOfContext } from '../backends/index.ts';
import type { LocalMethod, WorkerHandle } from '../backends/types.ts';
import { InvalidStateError, ProcessError } from '../errors.ts';
import { getLogger } from '../logging.ts';
import { checkMayStartWorkers } from '../process.ts';
import { deserializeError } from '../reduction/errors.ts';
import { type Target, reduceClass, reduceFunction } from '../reduction/functions.ts';
import { cloneError, encode } from '../reduction/values.ts';
import type { LifecycleMessage, StopMessage } from '../runtime/protocol.ts';
import { spawnWorker } from '../runtime/spawn.ts';
import { fixMethod } from '../runtime/start-method.ts';
import { nextIdentity, state } from '../runtime/state.ts';
import { checkArray, checkKnown, checkTimeout, invalidArg } from '../validate.ts';
import { type AutoProxy, makeProxy, request } from './proxy.ts';
import type { FactorySpec, ManagerJob, RegistryEntry } from './server.ts';
import { disconnect, privateAddress, removeAddress } from './transport.ts';

/** Options of {@link BaseManager}. */
export interface ManagerOptions {
  /** Where the server listens (a socket path, or a pipe name on Windows). Default: a fresh private address. */
  address?: string | undefined;
  /** The key clients must prove they hold (default: 32 random bytes). A string is rejected, as in Python. */
  authkey?: Uint8Array | undefined;
  /** The context (or start method) whose worker runs the server. Default: the default context. */
  context?: { readonly method: LocalMethod } | LocalMethod | undefined;
  /** How long `shutdown()` waits for the server before terminating it, then killing it (ms). Default 1000. */
  shutdownTimeout?: number | undefined;
}

/** Options of {@link BaseManager.register}. */
export interface RegisterOptions {
  /** The method names proxies may call (default: every public method, those not starting with `_`). */
  exposed?: readonly string[] | undefined;
  /** The proxy class name to build (a built-in proxy's name); default an AutoProxy. */
  proxytype?: string | undefined;
  /** Whether to add a method named `typeid` to the manager class (default true). */
  createMethod?: boolean | undefined;
}

interface Registered {
  readonly factory: FactorySpec;
  readonly exposed: readonly string[] | null;
  readonly proxytype: string;
}

// Each manager class has its own registry, copied from its parent's on first register (Python's rule).
const registries = new WeakMap<Function, Map<string, Registered>>();

function registryOf(cls: Function): Map<string, Registered> {
  for (let c: Function | null = cls; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    const found = registries.get(c);
    if (found) return found;
  }
  return new Map();
}

function isClass(fn: Function): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

type Status = 'initial' | 'started' | 'connected' | 'shutdown';

/**
 * A server holding shared objects, and the client side that creates them (Python's
 * `multiprocessing.managers.BaseManager`). Register your own types with `register`; each
 * registered typeid becomes a method of the class that resolves to a proxy.
 * @example
 * export class Counter { n = 0; increment() { return ++this.n } }
 * class MyManager extends mp.BaseManager { declare Counter: () => Promise<mp.AutoProxy<Counter>> }
 * MyManager.register('Counter', Counter)
 * await using manager = new MyManager(); await manager.start()
 * const c = await manager.Counter(); await c.increment()
 */
export class BaseManager implements AsyncDisposable {
  #status: Status = 'initial';
  #address: string | null;
  #dir: string | null = null;
  readonly #authkey: Uint8Array;
  readonly #method: LocalMethod | undefined;
  readonly #shutdownTimeout: number;
  #handle: WorkerHandle<StopMessage> | null = null;
  #exited: Promise<void> | null = null;
  #shutdown: Promise<void> | null = null;
  #cleanupAtExit: (() => void) | null = null;

  constructor(options: ManagerOptions = {}) {
    checkKnown(options, 'options', ['address', 'authkey', 'context', 'shutdownTimeout']);
    const { address, authkey, context, shutdownTimeout = 1000 } = options;
    if (address !== undefined && (typeof address !== 'string' || address === ''))
      invalidArg('address', 'a non-empty string', address);
    if (authkey !== undefined && !(authkey instanceof Uint8Array))
      invalidArg('authkey', 'a Uint8Array (a Buffer)', authkey);
    checkTimeout(shutdownTimeout, 'shutdownTimeout');
    const method = methodOfContext(context);
    this.#address = address ?? null;
    this.#authkey = authkey ? Uint8Array.from(authkey) : randomBytes(32);
    this.#method = method;
    this.#shutdownTimeout = shutdownTimeout;
  }

  /**
   * Registers a type the server can create: `factory` (a class or a function returning an
   * object) must be exported from its module, or be self-contained, because the server imports
   * it. Adds a method named `typeid` to this class unless `createMethod` is false.
   */
  static register(
    typeid: string,
    factory?: Target<(...args: any[]) => object> | (new (...args: any[]) => object) | null,
    options: RegisterOptions = {},
  ): void {
    if (typeof typeid !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(typeid))
      invalidArg('typeid', 'an identifier string', typeid);
    checkKnown(options, 'options', ['exposed', 'proxytype', 'createMethod']);
    if (options.exposed !== undefined) checkArray(options.exposed, 'options.exposed');
    let spec: FactorySpec = null;
    if (factory !== undefined && factory !== null) {
      spec =
        typeof factory === 'function' && isClass(factory)
          ? { kind: 'class', fn: reduceClass(factory) }
          : { kind: 'function', fn: reduceFunction(factory, `the factory of '${typeid}'`) };
    }
    let registry = registries.get(this);
    if (!registry) registries.set(this, (registry = new Map(registryOf(this))));
    registry.set(typeid, {
      factory: spec,
      exposed: options.exposed ? [...options.exposed] : null,
      proxytype: options.proxytype ?? 'AutoProxy',
    });
    if (options.createMethod !== false) {
      Object.defineProperty(this.prototype, typeid, {
        value: function (this: BaseManager, ...args: unknown[]) {
          return this.create(typeid, ...args);
        },
        configurable: true,
        writable: true,
      });
    }
  }

  /** Registers a built-in typeid (used by SyncManager). @internal */
  protected static registerBuiltin(typeid: string, proxytype: string): void {
    let registry = registries.get(this);
    if (!registry) registries.set(this, (registry = new Map(registryOf(this))));
    registry.set(typeid, { factory: { kind: 'builtin' }, exposed: null, proxytype });
  }

  /** The server's address (null before `start()` unless given). */
  get address(): string | null {
    return this.#address;
  }
  /** The key clients authenticate with; pass it to `new BaseManager({ address, authkey }).connect()` elsewhere. */
  get authkey(): Uint8Array {
    return this.#authkey;
  }

  /**
   * Starts the server in a worker of this manager's context (a thread, or a child process named
   * `SyncManager-N`) and resolves once it listens. `initializer(...initargs)` runs in the server first.
   */
  async start(
    options: { initializer?: Target<(...args: any[]) => unknown>; initargs?: unknown[] } = {},
  ): Promise<void> {
    checkKnown(options, 'options', ['initializer', 'initargs']);
    if (this.#status === 'shutdown')
      throw new InvalidStateError('Manager has shut down', 'ERR_CLOSED');
    if (this.#status !== 'initial')
      throw new InvalidStateError('Already started server', 'ERR_ALREADY_STARTED');
    if (
      options.initializer !== undefined &&
      typeof options.initializer !== 'function' &&
      typeof options.initializer !== 'object'
    )
      throw new TypeError('initializer must be a callable');
    if (options.initargs !== undefined) checkArray(options.initargs, 'initargs');
    checkMayStartWorkers('manager');
    const method = this.#method ?? fixMethod();
    const initializer = options.initializer
      ? reduceFunction(options.initializer, 'the initializer')
      : null;
    const initargs = encode(options.initargs ?? [], capabilitiesOf(method));
    try {
      // Checked now: a thread's workerData is cloned at once, IPC would fail later, unseen.
      serialize(initargs.value);
    } catch (error) {
      throw cloneError(error, 'the initializer', options.initargs);
    }
    // Everything that can fail on bad input has run: only now create the socket directory.
    if (this.#address === null) ({ address: this.#address, dir: this.#dir } = privateAddress());
    const registry: RegistryEntry[] = [...registryOf(this.constructor)].map(([typeid, r]) => ({
      typeid,
      factory: r.factory,
      exposed: r.exposed,
    }));
    const job: ManagerJob = {
      kind: 'manager',
      address: this.#address,
      authkey: this.#authkey,
      registry,
      initializer,
      initargs: initargs.value,
      walked: initargs.walked,
    };
    const identity = nextIdentity();
    const name = `${this.constructor.name || 'BaseManager'}-${identity.join(':')}`;
    this.#status = 'started';
    const dir = this.#dir;
    let resolveExit!: () => void;
    this.#exited = new Promise<void>((resolve) => (resolveExit = resolve));
    const ready = new Promise<void>((resolve, reject) => {
      this.#handle = spawnWorker<'manager', LifecycleMessage, StopMessage>('manager', job, {
        method,
        name,
        identity,
        daemon: state().daemon,
        events: {
          message: (msg) => {
            if (msg.t === 'ready') resolve();
            else if (msg.t === 'init-failed') reject(deserializeError(msg.error));
          },
          exit: (code) => {
            removeAddress(dir);
            reject(
              new ProcessError(
                `the manager server ${name} exited with code ${code} while starting`,
              ),
            );
            resolveExit();
          },
        },
      });
    });
    // Python stops the manager when the program exits; the socket directory goes with it.
    this.#cleanupAtExit = () => removeAddress(dir);
    process.on('exit', this.#cleanupAtExit);
    try {
      await ready;
    } catch (error) {
      await this.#stop();
      throw error;
    }
    // The server does not keep the program alive: it is stopped at exit, as Python does.
    this.#handle!.unref();
    getLogger().debug(`manager serving at ${this.#address}`);
  }

  /** Connects to a server that is already running at `address` (started by another manager). */
  async connect(): Promise<void> {
    if (this.#status !== 'initial')
      throw new InvalidStateError('manager already started or connected', 'ERR_ALREADY_STARTED');
    if (this.#address === null)
      throw new InvalidStateError('connect() needs an address', 'ERR_NOT_STARTED');
    this.#status = 'connected';
    // Nothing is created: this only proves the address and the key (AuthenticationError if wrong).
    await request(
      this.#address,
      this.#authkey,
      { t: 'create', typeid: '\u0000probe' },
      [],
      'connect()',
    ).catch((error: unknown) => {
      if (error instanceof ProcessError && error.code === 'ERR_REMOTE') return;
      this.#status = 'initial';
      throw error;
    });
  }

  /**
   * Creates a shared object of a registered `typeid` in the server and resolves to its proxy
   * (what the method named after the typeid does).
   */
  async create<T = unknown>(typeid: string, ...args: unknown[]): Promise<AutoProxy<T>> {
    if (this.#status === 'initial')
      throw new InvalidStateError('the manager is not started', 'ERR_NOT_STARTED');
    if (this.#status === 'shutdown')
      throw new InvalidStateError('the manager has shut down', 'ERR_CLOSED');
    const registered = registryOf(this.constructor).get(typeid);
    if (!registered)
      invalidArg('typeid', `a typeid registered on ${this.constructor.name}`, typeid);
    const address = this.#address!;
    const reply = (await request(
      address,
      this.#authkey,
      { t: 'create', typeid },
      args,
      `${typeid}()`,
    )) as {
      id: string;
      exposed: string[];
    };
    const token = {
      address,
      authkey: this.#authkey,
      typeid,
      id: reply.id,
      exposed: reply.exposed,
      proxytype: registered.proxytype,
    };
    return makeProxy(token) as AutoProxy<T>;
  }

  /**
   * Stops the server: asks it to exit, then terminates it after `shutdownTimeout` ms, then kills
   * it. Idempotent. Afterwards every proxy call rejects with InvalidStateError `ERR_CLOSED`.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#stop();
    return this.#shutdown;
  }

  async #stop(): Promise<void> {
    const previous = this.#status;
    this.#status = 'shutdown';
    if (this.#address !== null) disconnect(this.#address);
    const handle = previous === 'started' ? this.#handle : null;
    if (handle) {
      // Waiting for the server's exit must keep the program alive.
      handle.ref();
      handle.post({ t: 'stop' });
      const within = (ms: number) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), ms);
          void this.#exited!.then(() => (clearTimeout(timer), resolve(true)));
        });
      if (!(await within(this.#shutdownTimeout))) {
        handle.terminate();
        if (!(await within(this.#shutdownTimeout))) handle.kill();
      }
      await this.#exited;
    }
    removeAddress(this.#dir);
    if (this.#cleanupAtExit) process.off('exit', this.#cleanupAtExit);
    this.#cleanupAtExit = null;
  }

  /** Waits until the server has exited, or `timeout` ms pass. */
  async join(timeout?: number): Promise<void> {
    checkTimeout(timeout);
    if (!this.#exited) throw new InvalidStateError('the manager is not started', 'ERR_NOT_STARTED');
    if (timeout === undefined || timeout === Infinity) return this.#exited;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#exited,
      new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, timeout)))),
    ]);
    clearTimeout(timer);
  }

  /** `await using manager = …` shuts the manager down at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  /** Python's repr. */
  toString(): string {
    return `<${this.constructor.name} address=${this.#address ?? 'None'} ${this.#status}>`;
  }
}
