// BaseProxy: a handle on an object held by a manager server; method calls are async RPCs over this thread's connection.
import { inspect } from 'node:util';
import { DataCloneError } from '../errors.ts';
import {
  cloneError,
  encode,
  kAnotherProcess,
  kReduce,
  noteReducible,
  registerReviver,
} from '../reduction/values.ts';
import { checkArray } from '../validate.ts';
import { connectionTo } from './transport.ts';

/** Everything that identifies a shared object: where its server is, how to enter, and which object. */
export interface ProxyToken {
  readonly address: string;
  readonly authkey: Uint8Array;
  readonly typeid: string;
  readonly id: string;
  /** Method names the server lets proxies call. */
  readonly exposed: readonly string[];
  /** Name of the proxy class that represents it (a built-in proxy, or 'AutoProxy'). */
  readonly proxytype: string;
}

/** Sends one request to the server at `token.address` (from this thread's connection). */
export async function request(
  address: string,
  authkey: Uint8Array,
  message: { t: 'create'; typeid: string } | { t: 'call'; id: string; method: string },
  args: readonly unknown[],
  what: string,
): Promise<unknown> {
  const encoded = encode(args, kAnotherProcess);
  try {
    return await connectionTo(address, authkey).request({
      ...message,
      args: encoded.value,
      walked: encoded.walked,
    });
  } catch (error) {
    // v8.serialize reports an uncloneable value as a plain Error: name the argument instead.
    if (
      error instanceof Error &&
      !(error instanceof DataCloneError) &&
      /could not be cloned/.test(error.message)
    ) {
      throw cloneError(error, what, args);
    }
    throw error;
  }
}

/**
 * A handle on an object that lives in a manager's server. Every method is an async call to the
 * server; proxies travel to workers (inside Process arguments, Pool tasks, other shared objects)
 * and reconnect there.
 * @example
 * const d = await manager.dict<string, number>()
 * await d.callMethod('set', ['k', 1]) // the same as await d.set('k', 1)
 */
export class BaseProxy {
  readonly #token: ProxyToken;

  constructor(token: ProxyToken) {
    noteReducible();
    this.#token = token;
  }

  /** The typeid the object was created with (`'dict'`, `'Lock'`, or your registered name). */
  get typeid(): string {
    return this.#token.typeid;
  }
  /** The object's id in its server. */
  get id(): string {
    return this.#token.id;
  }
  /** The address of the server that holds the object. */
  get address(): string {
    return this.#token.address;
  }

  /**
   * Calls `name(...args)` on the shared object and resolves with its (awaited) result; the
   * object's own errors arrive with their class, message and remote stack.
   * Rejects with RemoteError for a method that is not exposed, and with InvalidStateError
   * (code `ERR_CLOSED`) once the manager has shut down.
   */
  async callMethod(name: string, args: readonly unknown[] = []): Promise<unknown> {
    if (typeof name !== 'string')
      throw new TypeError(`Expected \`name\` to be a string, got ${typeof name}`);
    checkArray(args, 'args');
    const { address, authkey, id, typeid } = this.#token;
    return request(address, authkey, { t: 'call', id, method: name }, args, `${typeid}.${name}()`);
  }

  [kReduce](): { kind: string; state: ProxyToken } {
    return { kind: 'ManagerProxy', state: this.#token };
  }

  /** Python's repr: `<DictProxy object, typeid 'dict' at 1>`. */
  toString(): string {
    return `<${this.#token.proxytype} object, typeid '${this.#token.typeid}' at ${this.#token.id}>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** The async face of a shared object of type T: each public method of T, returning a Promise. */
export type AutoProxy<T> = BaseProxy & {
  readonly [
    K in keyof T as K extends `_${string}` | 'then'
      ? never
      : T[K] extends (...args: any[]) => any
        ? K
        : never
  ]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

// Names a shared object's method may not take on its proxy: the proxy's own members, and
// `then`, which would make the proxy look like a Promise to `await`.
const kReserved = new Set([
  'then',
  'constructor',
  ...Object.getOwnPropertyNames(BaseProxy.prototype),
]);

/** The proxy of a registered type: one async method per exposed method of the object. */
class AutoProxyImpl extends BaseProxy {
  constructor(token: ProxyToken) {
    super(token);
    for (const name of token.exposed) {
      if (kReserved.has(name)) continue;
      Object.defineProperty(this, name, {
        value: (...args: unknown[]) => this.callMethod(name, args),
        configurable: true,
        writable: true,
      });
    }
  }
}

const proxyTypes = new Map<string, new (token: ProxyToken) => BaseProxy>([
  ['AutoProxy', AutoProxyImpl],
]);

/** Registers the class that represents proxies of `name` (called once per built-in proxy class). */
export function registerProxyType(name: string, cls: new (token: ProxyToken) => BaseProxy): void {
  proxyTypes.set(name, cls);
}

/** Builds the proxy for `token` (its proxytype's class, or an AutoProxy). */
export function makeProxy(token: ProxyToken): BaseProxy {
  const cls = proxyTypes.get(token.proxytype);
  if (!cls) throw new Error(`assertion failed: no proxy type '${token.proxytype}'`);
  return new cls(token);
}

registerReviver('ManagerProxy', (token: ProxyToken) => makeProxy(token));
