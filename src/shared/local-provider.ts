// The local core provider: primitives over plain SharedArrayBuffers of this process.
import type { Destination } from '../reduction/values.ts';
import { type CoreState, type SharedCore, createCore } from './core.ts';
import { kLocalMemory } from './memory.ts';
import { type CoreProvider, type CoreWire, registerProvider } from './provider.ts';

/** A local core on the wire to a thread of this process: the buffers themselves. */
export interface LocalWire extends CoreWire {
  readonly t: 'local';
  readonly kind: string;
  readonly state: CoreState;
}

// Another process cannot map these buffers: a carrier (the broker) reaches them for it.
let carrier: CoreProvider | null = null;

/**
 * Sets the provider that carries local cores to other processes (the broker registers itself).
 * @example
 * carryLocalCoresWith(brokerProvider)
 */
export function carryLocalCoresWith(provider: CoreProvider): void {
  carrier = provider;
}

function carrierOf(): CoreProvider {
  if (!carrier) throw new Error('assertion failed: no carrier registered for local cores');
  return carrier;
}

/**
 * Plain SharedArrayBuffers of this process: a thread receives the buffers, another process a
 * handle minted by the carrier.
 * @example
 * const core = new MutexCore('Lock', MutexCore.fresh(localCores.memory))
 */
export const localCores: CoreProvider = {
  mode: 'local',
  memory: kLocalMemory,
  tags: ['local'],
  claims: () => true,
  isReal: () => true,
  reduceCore(core: SharedCore, destination: Destination): CoreWire {
    if (destination.sharesMemory)
      return { t: 'local', kind: core.kind, state: core.state } as LocalWire;
    return carrierOf().reduceCore(core, destination);
  },
  reviveCore(wire: CoreWire): SharedCore {
    const { kind, state } = wire as LocalWire;
    return createCore(kind, state);
  },
  names: () => carrierOf().names(),
};

registerProvider(localCores, { fallback: true });
