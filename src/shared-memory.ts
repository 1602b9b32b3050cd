// SharedMemory: named blocks of shared memory that any worker of the program can attach by name.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ProcessError } from './errors.ts';
import { kReduce, type Destination } from './reduction/values.ts';
import { BufferCore, type BufferCoreApi } from './shared-types.ts';
import { remoteArray } from './shared-array.ts';
import {
  isLocal,
  markLocal,
  reduceCore,
  registerPrimitive,
  type CoreHandle,
} from './synchronize/travel.ts';
import { checkBoolean, checkInteger, checkOptions, checkString, describe } from './validate.ts';

/**
 * No shared memory block has this name (Python's `FileNotFoundError`); code ERR_SHM_NOT_FOUND.
 * @example
 * try { new mp.SharedMemory({ name: 'nope' }) } catch (e) { if (e instanceof mp.FileNotFoundError) {} }
 */
export class FileNotFoundError extends ProcessError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ERR_SHM_NOT_FOUND', options);
  }
}

/**
 * A shared memory block with this name exists already (Python's `FileExistsError`); code ERR_SHM_EXISTS.
 * @example
 * try { new mp.SharedMemory({ name: 'x', create: true, size: 8 }) } catch (e) { if (e instanceof mp.FileExistsError) {} }
 */
export class FileExistsError extends ProcessError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ERR_SHM_EXISTS', options);
  }
}

/** Where names of shared memory blocks live: a program-wide table (the broker's, once installed). */
export interface NameRegistry {
  /** Registers a new block; false if the name is taken. */
  create(name: string, buffer: SharedArrayBuffer): boolean;
  /** The block of `name` (a core over its bytes) and its size, or null. */
  attach(name: string): { core: BufferCoreApi; size: number } | null;
  /** Forgets `name`; false if it was not registered. */
  unlink(name: string): boolean;
}

// Until the broker's program-wide table is installed, names are known to this thread only.
const localNames = new Map<string, SharedArrayBuffer>();
let registry: NameRegistry = {
  create(name, buffer) {
    if (localNames.has(name)) return false;
    localNames.set(name, buffer);
    return true;
  },
  attach(name) {
    const buffer = localNames.get(name);
    if (!buffer) return null;
    return {
      core: markLocal(new BufferCore(BufferCore.over('B', buffer, buffer.byteLength))),
      size: buffer.byteLength,
    };
  },
  unlink(name) {
    return localNames.delete(name);
  },
};

/**
 * Installs the program-wide name table (called by the broker layer).
 * @example
 * installNameRegistry(brokerNames)
 */
export function installNameRegistry(table: NameRegistry): void {
  registry = table;
}

/** Options of {@link SharedMemory}. */
export interface SharedMemoryOptions {
  /** The block's name; random (`psm_` + 8 hex digits) when creating without one. */
  name?: string | undefined;
  /** Create a new block (else attach to an existing one by name). */
  create?: boolean | undefined;
  /** Size in bytes of a new block (ignored when attaching: the real size is used). */
  size?: number | undefined;
}

type ShmState = { core: CoreHandle; name: string; size: number };
let adopting: ShmState & { revived: BufferCoreApi } = null!;

/**
 * A block of shared memory with a name, as Python's `shared_memory.SharedMemory`: `buf` is a
 * Uint8Array over it in the main process and thread workers (an index-compatible proxy, one
 * broker round trip per access, in a child process). Any worker of the program can attach it by
 * name; it also travels inside arguments. Missing names throw FileNotFoundError, taken names
 * FileExistsError. Memory is freed when the last holder drops it; `unlink()` removes the name.
 * @example
 * const shm = new mp.SharedMemory({ create: true, size: 1024 })
 * shm.buf[0] = 42
 * const again = new mp.SharedMemory({ name: shm.name })
 */
export class SharedMemory {
  readonly #name: string;
  readonly #size: number;
  readonly #core: BufferCoreApi;
  #buf: Uint8Array | null;

  constructor(options: SharedMemoryOptions = {}) {
    if (adopting) {
      ({ name: this.#name, size: this.#size, revived: this.#core } = adopting);
      adopting = null!;
    } else {
      checkOptions(options, 'options');
      const { name, create = false, size = 0 } = options;
      checkString(name, 'name');
      checkBoolean(create, 'create');
      checkInteger(size, 'size', 0);
      if (name !== undefined && (name.length === 0 || name.includes('\0'))) {
        throw new TypeError(
          `Expected \`name\` to be a non-empty string without NUL, got ${describe(name)}`,
        );
      }
      if (create) {
        if (size === 0) {
          throw Object.assign(
            new RangeError(
              'Expected `size` to be a positive number different from zero when creating, got 0 (number)',
            ),
            { code: 'ERR_OUT_OF_RANGE' },
          );
        }
        const buffer = new SharedArrayBuffer(size);
        const chosen = name ?? `psm_${randomBytes(4).toString('hex')}`;
        if (!registry.create(chosen, buffer)) {
          throw new FileExistsError(`File exists: '${chosen}'`);
        }
        this.#name = chosen;
        this.#size = size;
        this.#core = markLocal(new BufferCore(BufferCore.over('B', buffer, size)));
      } else {
        if (name === undefined) {
          throw new TypeError(
            "Expected `name` to be a string when `create` is false ('name' can only be omitted if create is true)",
          );
        }
        const found = registry.attach(name);
        if (!found) throw new FileNotFoundError(`No such file or directory: '${name}'`);
        this.#name = name;
        this.#size = found.size;
        this.#core = found.core;
      }
    }
    this.#buf = isLocal(this.#core)
      ? ((this.#core as BufferCore).view as Uint8Array)
      : (remoteArray(this.#core, 'B', 0, this.#size, false) as Uint8Array);
  }

  /** The block's name (no leading slash). */
  get name(): string {
    return this.#name;
  }

  /** The block's size in bytes. */
  get size(): number {
    return this.#size;
  }

  /** The bytes, or null after close(). */
  get buf(): Uint8Array | null {
    return this.#buf;
  }

  /** The core over the bytes (for ShareableList's bulk reads and writes). */
  get core(): BufferCoreApi {
    return this.#core;
  }

  /** Drops this object's view of the block (idempotent); the block lives on for other holders. */
  close(): void {
    this.#buf = null;
  }

  /** Removes the name; a second unlink() throws FileNotFoundError, as on POSIX. */
  unlink(): void {
    if (!registry.unlink(this.#name)) {
      throw new FileNotFoundError(`No such file or directory: '${this.#name}'`);
    }
  }

  [kReduce](destination: Destination): { kind: string; state: ShmState } {
    return {
      kind: 'shared:SharedMemory',
      state: { core: reduceCore(this.#core, destination), name: this.#name, size: this.#size },
    };
  }

  /** Python's repr: `SharedMemory('psm_1a2b3c4d', size=100)`. */
  toString(): string {
    return `SharedMemory('${this.#name}', size=${this.#size})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

registerPrimitive<ShmState>('shared:SharedMemory', (core, s) => {
  adopting = { ...s, revived: core as BufferCoreApi };
  try {
    return new SharedMemory();
  } finally {
    adopting = null!;
  }
});
