// SharedMemory: named blocks of shared memory that any worker of the program can attach by name.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { kReduce, noteReducible, type Destination } from './reduction/values.ts';
import type { BufferCoreApi } from './shared/element-cores.ts';
import type { AnyTypedArray } from './shared/typecodes.ts';
import type { BufferCore } from './shared/buffer-core.ts';
import { activeProvider } from './shared/binding.ts';
import { sizeOfShared } from './shared/memory.ts';
import type { NamedBuffers } from './shared/provider.ts';
import type { SharedCore } from './shared/core.ts';
import { remoteArray } from './shared/remote-array.ts';
import { isRealCore, reduceCore, registerPrimitive, type CoreHandle } from './shared/travel.ts';
import { checkBoolean, checkInteger, checkKnown, checkString, invalidArg } from './validate.ts';
import { constants } from 'node:buffer';

const kMaxBlockBytes = constants.MAX_LENGTH;

/** The byte core of a named buffer, as a process that cannot map it sees it. */
type NamedCore = BufferCore;

// Element access for the index-compatible proxy over a named buffer's core in a child process.
function bytesOf(core: NamedCore): BufferCoreApi {
  return {
    kind: core.kind,
    state: core.state,
    get: (i) => core.getByte(i),
    set: (i, v) => core.setByte(i, Number(v)),
    read: (start, end) => core.read(start, end - start) as unknown as AnyTypedArray,
    write: (start, values) => core.write(start, Uint8Array.from(values as ArrayLike<number>)),
  };
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
let adopting: ShmState & { revived: SharedCore } = null!;

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
  // The registry of names this block lives in (its provider's).
  readonly #names: NamedBuffers = activeProvider().names();
  // Here: the memory itself (root process) or the broker's core over it (child process).
  readonly #memory: SharedArrayBuffer | NamedCore;
  #core: NamedCore | null = null;
  #buf: Uint8Array | null;

  constructor(options: SharedMemoryOptions = {}) {
    if (adopting) {
      const { name, size, revived } = adopting;
      adopting = null!;
      this.#name = name;
      this.#size = size;
      this.#memory = isRealCore(revived)
        ? (revived.state.buffers[0] as SharedArrayBuffer)
        : (revived as NamedCore);
    } else {
      checkKnown(options, 'options', ['name', 'create', 'size']);
      const { name, create = false, size = 0 } = options;
      checkString(name, 'name');
      checkBoolean(create, 'create');
      checkInteger(size, 'size', 0);
      // One Uint8Array must be able to show the whole block.
      if (size > kMaxBlockBytes) {
        throw Object.assign(
          new RangeError(
            `Expected \`size\` to be at most ${kMaxBlockBytes} bytes (one Uint8Array), got ${size} (number)`,
          ),
          { code: 'ERR_SHM_TOO_LARGE' },
        );
      }
      noteReducible();
      if (name !== undefined && (name.length === 0 || name.includes('\0')))
        invalidArg('name', 'a non-empty string without NUL', name);
      if (create) {
        if (size === 0) {
          throw Object.assign(
            new RangeError(
              'Expected `size` to be a positive number different from zero when creating, got 0 (number)',
            ),
            { code: 'ERR_OUT_OF_RANGE' },
          );
        }
        const chosen = name ?? `psm_${randomBytes(4).toString('hex')}`;
        this.#memory = this.#names.create(chosen, size); // FileExistsError when taken
        this.#name = chosen;
        this.#size = size;
      } else {
        if (name === undefined) {
          invalidArg(
            'name',
            "a string when `create` is false ('name' can only be omitted if create is true)",
            name,
          );
        }
        this.#memory = this.#names.lookup(name); // FileNotFoundError when missing
        this.#name = name;
        this.#size =
          this.#memory instanceof SharedArrayBuffer
            ? sizeOfShared(this.#memory)
            : (this.#memory.state.meta as { size: number }).size;
      }
    }
    this.#buf =
      this.#memory instanceof SharedArrayBuffer
        ? new Uint8Array(this.#memory, 0, this.#size)
        : (remoteArray(bytesOf(this.#memory), 'B', 0, this.#size) as Uint8Array);
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

  /** The byte core (for bulk reads and writes that work in a child process too). */
  get core(): NamedCore {
    if (this.#memory instanceof SharedArrayBuffer)
      this.#core ??= this.#names.bytes(this.#memory, this.#size);
    return this.#core ?? (this.#memory as NamedCore);
  }

  /** Drops this object's view of the block (idempotent); the block lives on for other holders. */
  close(): void {
    this.#buf = null;
  }

  /** Removes the name; a second unlink() throws FileNotFoundError, as on POSIX. */
  unlink(): void {
    this.#names.unlink(this.#name); // FileNotFoundError when already unlinked
  }

  [kReduce](destination: Destination): { kind: string; state: ShmState } {
    return {
      kind: 'shared:SharedMemory',
      state: { core: reduceCore(this.core, destination), name: this.#name, size: this.#size },
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
  adopting = { ...s, revived: core };
  try {
    return new SharedMemory();
  } finally {
    adopting = null!;
  }
});
