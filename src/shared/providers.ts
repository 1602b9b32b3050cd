// The built-in core providers, registered in the order they claim cores: broker (remote cores), then local.
import '../broker/provider.ts';
import './local-provider.ts';

export { localCores } from './local-provider.ts';
export { brokerCores } from '../broker/provider.ts';
