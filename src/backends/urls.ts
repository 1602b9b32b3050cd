// Locations of the worker entry and runtime, for this build (src/*.ts in development, dist/*.js installed).
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ext = extname(fileURLToPath(import.meta.url));

/** The plain-JS entry every worker starts from. */
export const kEntryUrl = new URL('./entry.mjs', import.meta.url);
/** The worker runtime module the entry hands over to. */
export const kRuntimeUrl = new URL(`../runtime/worker${ext}`, import.meta.url).href;
