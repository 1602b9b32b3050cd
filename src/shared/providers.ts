// The built-in core providers, registered in the order they claim cores: broker (remote cores), mapped, then local.
import { brokerCores, createBuffer } from '../broker/provider.ts';
import { mappedCores, useNamesOf } from '../mapped/provider.ts';
import './local-provider.ts';

// Named blocks of mapped memory are registered where the broker keeps every other name; the main
// process makes them from mapped memory, so a block passed to a child, or looked up by name
// there, is mapped.
useNamesOf(() => ({
  ...brokerCores.names(),
  create: (name: string, size: number) => createBuffer(name, size, mappedCores.memory),
}));

export { localCores } from './local-provider.ts';
export { brokerCores } from '../broker/provider.ts';
export { mappedAvailable, mappedCores, mappedUnavailableReason } from '../mapped/provider.ts';
