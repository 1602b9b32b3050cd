// Core providers: how each kind of memory makes, sends and revives the cores of shared primitives.
//
// A primitive (Lock, Queue, Value…) is a public class over a core: an algorithm over shared
// buffers (src/shared/core.ts). Where the buffers come from, and how a core reaches another
// thread or process, is not the primitive's business but its provider's:
//  - the *local* provider allocates plain SharedArrayBuffers of this process; a thread of this
//    process receives the buffers themselves, another process a handle minted by the transport
//    registered for that (the broker);
//  - the *broker* provider owns remote cores: stand-ins in a child process whose calls travel
//    to the broker thread of the process that owns the buffers;
//  - a future provider (mapped OS shared memory, Redis) registers the same way, with its own
//    wire tag, and a context hands it to the primitives created through it.
// Every core belongs to exactly one provider: the first registered one that claims it, the
// local provider last (it claims every core over real buffers of this process).
import type { Destination } from '../reduction/values.ts';
import type { BufferCore } from './buffer-core.ts';
import type { SharedCore } from './core.ts';
import type { Memory } from './memory.ts';

/** How a context's primitives reach their memory, as `Context.sharedMemory` reports it. */
export type SharedMemoryMode = 'local' | 'broker' | 'mapped' | 'redis';

/** A core on the wire; `t` names the provider that revives it. */
export interface CoreWire {
  readonly t: string;
}

/** Named shared buffers (SharedMemory by name), program-wide. */
export interface NamedBuffers {
  /** A new zeroed block of `size` bytes named `name`: memory here, or a core that reaches it. */
  create(name: string, size: number): SharedArrayBuffer | BufferCore;
  /** The block named `name`: memory here, or a core that reaches it. */
  lookup(name: string): SharedArrayBuffer | BufferCore;
  /** Removes the name; holders keep their memory. */
  unlink(name: string): void;
  /** A byte core over the first `size` bytes of `buffer`, for bulk reads and writes that other processes can call. */
  bytes(buffer: SharedArrayBuffer, size: number): BufferCore;
}

/** One kind of memory for shared primitives. */
export interface CoreProvider {
  /** How primitives of this provider reach their memory. */
  readonly mode: SharedMemoryMode;
  /** Where new cores' buffers come from. */
  readonly memory: Memory;
  /** The wire tags this provider revives. */
  readonly tags: readonly string[];
  /** Whether `core` is one of this provider's. */
  claims(core: SharedCore): boolean;
  /** Whether `core`'s buffers are real memory in this thread (false: its calls travel). */
  isReal(core: SharedCore): boolean;
  /** The wire form of `core` for `destination`. */
  reduceCore(core: SharedCore, destination: Destination): CoreWire;
  /** The core behind `wire`, on the receiving side. */
  reviveCore(wire: CoreWire): SharedCore;
  /** The program-wide registry of named buffers this provider's SharedMemory uses. */
  names(): NamedBuffers;
}

const providers: CoreProvider[] = [];
const byTag = new Map<string, CoreProvider>();
let fallback: CoreProvider | null = null;

/**
 * Registers a provider (once, at module load). `{ fallback: true }` makes it the owner of every
 * core no other provider claims (the local provider).
 * @example
 * registerProvider(brokerProvider)
 */
export function registerProvider(provider: CoreProvider, options?: { fallback?: boolean }): void {
  for (const tag of provider.tags) {
    if (byTag.has(tag)) throw new Error(`assertion failed: core wire tag '${tag}' taken twice`);
    byTag.set(tag, provider);
  }
  if (options?.fallback) fallback = provider;
  else providers.push(provider);
}

/**
 * The provider `core` belongs to.
 * @example
 * providerOf(lock.core).mode // 'local'
 */
export function providerOf(core: SharedCore): CoreProvider {
  for (const p of providers) if (p.claims(core)) return p;
  if (!fallback) throw new Error('assertion failed: no fallback core provider registered');
  return fallback;
}

/**
 * The provider registered as the fallback (the local one): primitives created outside any
 * context binding use it.
 * @example
 * const memory = localProvider().memory
 */
export function localProvider(): CoreProvider {
  if (!fallback) throw new Error('assertion failed: no fallback core provider registered');
  return fallback;
}

/**
 * The wire form of `core` for `destination`, as its provider makes it.
 * @example
 * [kReduce](destination) { return { kind: 'sync:Event', state: { core: reduceCore(this.#core, destination) } } }
 */
export function reduceCore(core: SharedCore, destination: Destination): CoreWire {
  return providerOf(core).reduceCore(core, destination);
}

/**
 * The core behind `wire`, revived by the provider that made it.
 * @example
 * const core = reviveCore(state.core)
 */
export function reviveCore(wire: CoreWire): SharedCore {
  const provider = byTag.get(wire.t);
  if (!provider) throw new Error(`assertion failed: no core provider for wire tag '${wire.t}'`);
  return provider.reviveCore(wire);
}

/**
 * Whether `core`'s buffers are real memory in this thread, as its provider says; when false,
 * every call of the core travels to where the memory is.
 * @example
 * const view = isRealCore(core) ? new Int32Array(core.state.buffers[0]!) : null
 */
export function isRealCore(core: SharedCore): boolean {
  return providerOf(core).isReal(core);
}
