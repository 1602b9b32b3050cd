// The built-in core providers, registered in the order they claim cores: broker (remote cores), mapped, then local.
import { brokerCores } from '../broker/provider.ts';
import { useNamesOf } from '../mapped/provider.ts';
import './local-provider.ts';

// Named blocks of mapped memory are registered where the broker keeps every other name.
useNamesOf(() => brokerCores.names());

export { localCores } from './local-provider.ts';
export { brokerCores } from '../broker/provider.ts';
export { mappedAvailable, mappedCores, mappedUnavailableReason } from '../mapped/provider.ts';
