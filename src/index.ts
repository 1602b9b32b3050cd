// The public surface of multiprocessing-ts: the default context's names, the classes and the errors.
export {
  Context,
  getContext,
  setStartMethod,
  getStartMethod,
  getAllStartMethods,
} from './context.ts';
export type { StartMethod } from './context.ts';
export { Process } from './process.ts';
export type { ProcessOptions } from './process.ts';
export { cpuCount, currentProcess, parentProcess, activeChildren, isMainProcess } from './info.ts';
export type { ProcessInfo, ParentProcessInfo } from './info.ts';
export { getLogger, logToStderr, Logger } from './logging.ts';
export type { LogLevel } from './logging.ts';
export { ref } from './reduction/functions.ts';
export type { FunctionRef, Target } from './reduction/functions.ts';
export { transfer } from './reduction/values.ts';
export * from './errors.ts';
