// The owner process's side of its broker: starts and stops the broker thread and reaches it from any of its threads.
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BroadcastChannel,
  Worker,
  getEnvironmentData,
  isMainThread,
  receiveMessageOnPort,
  setEnvironmentData,
  threadId,
} from 'node:worker_threads';
import { InvalidStateError } from '../errors.ts';
import { deserializeError } from '../reduction/errors.ts';
import { coreModuleUrl, type SharedCore } from '../shared/core.ts';
import { notify, waitSync } from '../shared/atomics.ts';
import { allocateShared } from '../shared/memory.ts';
import { state as runtimeState } from '../runtime/state.ts';
import { type CoreHandle, type ThreadReply, type ToBroker, kControl, kState } from './protocol.ts';

const ext = extname(fileURLToPath(import.meta.url));
/** The plain-JS entry of the library's helper threads (broker, sync bridge). */
export const kHelperEntry = new URL('./entry.mjs', import.meta.url);
const kServerUrl = new URL(`./server${ext}`, import.meta.url).href;
const kEnvKey = 'multiprocessing-ts.broker';
/** Environment variable naming the root process's broker, inherited by child processes. */
export const kBrokerEnv = 'MULTIPROCESSING_TS_BROKER';
// How long a thread waits for the broker to come up or to answer before giving up (never hang).
const kReadyDeadlineMs = 60_000;
const kReplyDeadlineMs = 60_000;

/** What every thread of this process shares about its broker (set by the main thread, inherited by workers). */
interface Shared {
  readonly control: SharedArrayBuffer;
  readonly token: string;
  readonly pid: number;
}

/** What the broker thread receives as workerData. */
export interface BrokerData extends Shared {
  readonly moduleUrl: string;
  readonly address: string;
  readonly dir: string;
}

interface MainState {
  worker: Worker | null;
  dir: string | null;
  exited: Promise<void> | null;
}

const shared: Shared | undefined = (() => {
  if (isMainThread) {
    const s: Shared = {
      control: allocateShared(kControl.size),
      token: randomUUID(),
      pid: process.pid,
    };
    new Int32Array(s.control)[kControl.nextId] = 1;
    setEnvironmentData(kEnvKey, s);
    return s;
  }
  const s = getEnvironmentData(kEnvKey) as Shared | undefined;
  return s && s.pid === process.pid ? s : undefined;
})();
const control = shared ? new Int32Array(shared.control) : null;
const main: MainState = { worker: null, dir: null, exited: null };

// Threads cannot start the broker (it would die with them): they ask the main thread.
if (isMainThread && shared) {
  const ctl = new BroadcastChannel(`mp-ts:${shared.token}:ctl`);
  ctl.onmessage = () => startBroker();
  ctl.unref();
}

/** The broker error every failed or refused call reports. */
export function brokerGone(message: string, cause?: unknown): InvalidStateError {
  return new InvalidStateError(
    message,
    'ERR_BROKER_GONE',
    cause === undefined ? undefined : { cause },
  );
}

function sharedState(): { shared: Shared; control: Int32Array } {
  if (!shared || !control) {
    throw brokerGone(
      'this thread cannot reach the broker of its process: the library was first loaded after the thread started',
    );
  }
  return { shared, control };
}

/** The current broker address ('' when none has started yet). */
export function brokerAddress(): string {
  const { control: ctl } = sharedState();
  const length = Atomics.load(ctl, kControl.addressLength);
  return Buffer.from(ctl.buffer, kControl.addressOffset, length).toString('utf8');
}

/** The broker's private directory while it runs (tests check it is removed), else null. */
export function brokerDirectory(): string | null {
  return main.dir;
}

function writeAddress(ctl: Int32Array, address: string): void {
  const bytes = Buffer.from(address, 'utf8');
  if (bytes.length > kControl.size - kControl.addressOffset)
    throw new RangeError(`broker address too long: ${address}`);
  bytes.copy(Buffer.from(ctl.buffer, kControl.addressOffset));
  Atomics.store(ctl, kControl.addressLength, bytes.length);
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // The broker thread dies with the process; its directory must not outlive it.
  process.on('exit', () => {
    if (main.dir) rmSync(main.dir, { recursive: true, force: true });
  });
}

/**
 * Starts the broker thread if it is not running (main thread only; returns at once, the broker
 * comes up in the background and messages posted to it meanwhile are queued).
 */
export function startBroker(): void {
  const { shared: s, control: ctl } = sharedState();
  if (!isMainThread) throw new Error('assertion failed: startBroker() outside the main thread');
  const state = Atomics.load(ctl, kControl.state);
  if (state === kState.starting || state === kState.ready) return;
  installExitHook();
  // mkdtemp creates the directory 0700 on POSIX; chmod again in case a umask or platform differs.
  const dir = mkdtempSync(join(tmpdir(), 'mp-ts-'));
  chmodSync(dir, 0o700);
  const address =
    process.platform === 'win32'
      ? `\\\\.\\pipe\\mp-ts-${process.pid}-${basename(dir)}`
      : join(dir, 'broker.sock');
  writeAddress(ctl, address);
  Atomics.add(ctl, kControl.generation, 1);
  Atomics.store(ctl, kControl.state, kState.starting);
  const data: BrokerData = { ...s, moduleUrl: kServerUrl, address, dir };
  const worker = new Worker(kHelperEntry, { workerData: data, name: 'multiprocessing-ts broker' });
  worker.unref();
  main.worker = worker;
  main.dir = dir;
  main.exited = new Promise<void>((resolve) => {
    worker.on('error', (error) => {
      process.stderr.write(
        `multiprocessing-ts: the broker thread failed:\n${error?.stack ?? error}\n`,
      );
    });
    worker.on('exit', () => {
      if (main.worker === worker) {
        main.worker = null;
        main.dir = null;
        main.exited = null;
        Atomics.store(ctl, kControl.state, kState.stopped);
        notify(ctl, kControl.state);
        if (process.env[kBrokerEnv] === `${process.pid}:${address}`) delete process.env[kBrokerEnv];
      }
      rmSync(dir, { recursive: true, force: true });
      resolve();
    });
  });
  // Child processes started from now on find the root broker for named buffers.
  // A library worker keeps its root's; a root (even one that inherited a variable from an
  // unrelated program) publishes its own.
  if (runtimeState().isMain) process.env[kBrokerEnv] = `${process.pid}:${address}`;
}

/**
 * The environment entry a child process needs to reach the root's named-buffer registry:
 * `{ MULTIPROCESSING_TS_BROKER: 'pid:address' }`. In the root (any thread) it starts the broker
 * if needed; in a library worker of another process it passes the root's entry on. For the
 * process backend: `env: { ...(options.env ?? process.env), ...brokerEnvironment() }`.
 * @example
 * fork(entry, [], { env: { ...process.env, ...brokerEnvironment() } })
 */
export function brokerEnvironment(): Record<string, string> {
  const inherited = process.env[kBrokerEnv];
  if (inherited && !runtimeState().isMain && Number(inherited.split(':', 1)[0]) !== process.pid)
    return { [kBrokerEnv]: inherited };
  if (isMainThread) startBroker();
  else ensureBrokerReady();
  return { [kBrokerEnv]: `${process.pid}:${brokerAddress()}` };
}

/**
 * Stops the broker: closes its socket server (children's calls then fail with
 * `InvalidStateError` `ERR_BROKER_GONE`), ends its thread and removes its directory. It restarts
 * lazily when a primitive is shared again. Internal (tests, shutdown).
 * @example
 * await stopBroker()
 */
export async function stopBroker(): Promise<void> {
  const worker = main.worker;
  const exited = main.exited;
  if (!worker || !exited) return;
  worker.postMessage({ t: 'stop' } satisfies ToBroker);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))]);
  clearTimeout(timer);
  if (main.worker === worker) {
    await worker.terminate();
    await exited;
  }
}

/** Blocks until the broker is ready, starting it (or asking the main thread to) if needed. */
export function ensureBrokerReady(): void {
  const { shared: s, control: ctl } = sharedState();
  let state = Atomics.load(ctl, kControl.state);
  if (state === kState.ready) return;
  if (isMainThread) startBroker();
  else if (state !== kState.starting) {
    const ctlChannel = new BroadcastChannel(`mp-ts:${s.token}:ctl`);
    ctlChannel.postMessage({ t: 'start' });
    ctlChannel.close();
  }
  const deadline = Date.now() + kReadyDeadlineMs;
  while ((state = Atomics.load(ctl, kControl.state)) !== kState.ready) {
    if (state === kState.failed || (isMainThread && state === kState.stopped))
      throw brokerGone('the broker thread failed to start (its error is on stderr)');
    if (Date.now() > deadline) {
      throw brokerGone(
        `the broker did not come up within ${kReadyDeadlineMs} ms` +
          (isMainThread
            ? ''
            : ' (a thread asks the main thread to start it: is the main thread blocked?)'),
      );
    }
    waitSync(ctl, kControl.state, state, 100);
  }
}

/** Registers `core` with this process's broker (from any thread) and returns its handle. */
export function registerWithBroker(core: SharedCore, id?: number): CoreHandle {
  const { control: ctl } = sharedState();
  const coreId = id ?? Atomics.add(ctl, kControl.nextId, 1);
  const msg: ToBroker = {
    t: 'register',
    id: coreId,
    kind: core.kind,
    state: core.state,
    moduleUrl: coreModuleUrl(core.kind),
  };
  if (isMainThread) {
    startBroker();
    // The worker queues messages until it runs: registration never waits for the broker to boot.
    main.worker!.postMessage(msg);
  } else {
    ensureBrokerReady();
    threadChannels().broker.postMessage(msg);
  }
  return {
    kind: core.kind,
    id: coreId,
    address: brokerAddress(),
    pid: process.pid,
    meta: core.state.meta,
  };
}

/** Whether the broker is starting or running (a stopped one makes every handle stale). */
export function brokerRunning(): boolean {
  const state = Atomics.load(sharedState().control, kControl.state);
  return state === kState.starting || state === kState.ready;
}

/** The generation of the running broker (handles minted under another generation are stale). */
export function brokerGeneration(): number {
  return Atomics.load(sharedState().control, kControl.generation);
}

interface ThreadChannels {
  readonly broker: BroadcastChannel;
  readonly reply: BroadcastChannel;
  readonly slot: Int32Array;
  seq: number;
}
let channels: ThreadChannels | null = null;

function threadChannels(): ThreadChannels {
  if (channels) return channels;
  const { shared: s } = sharedState();
  const broker = new BroadcastChannel(`mp-ts:${s.token}:broker`);
  // Replies are read with receiveMessageOnPort: no listener, and never keep the thread alive.
  const reply = new BroadcastChannel(`mp-ts:${s.token}:reply:${threadId}`);
  broker.unref();
  reply.unref();
  channels = { broker, reply, slot: new Int32Array(allocateShared(4)), seq: 0 };
  return channels;
}

// Node implements BroadcastChannel on a MessagePort: receiveMessageOnPort accepts it (its types do not).
const receiveReply = receiveMessageOnPort as unknown as (
  channel: BroadcastChannel,
) => { message: unknown } | undefined;

type Request = ToBroker extends infer M
  ? M extends { reply: unknown }
    ? Omit<M, 'reply'>
    : never
  : never;

/**
 * Sends `msg` to the broker and blocks this thread until it answers (any thread of the owner
 * process: the synckit pattern, a futex wait then receiveMessageOnPort). Throws the broker's error.
 */
export function requestBroker(msg: Request): unknown {
  ensureBrokerReady();
  const { control: ctl } = sharedState();
  const ch = threadChannels();
  const seq = ++ch.seq;
  Atomics.store(ch.slot, 0, 0);
  ch.broker.postMessage({ ...msg, reply: { thread: threadId, slot: ch.slot.buffer, seq } });
  const deadline = Date.now() + kReplyDeadlineMs;
  for (;;) {
    waitSync(ch.slot, 0, 0, 200);
    for (let m = receiveReply(ch.reply); m; m = receiveReply(ch.reply)) {
      const reply = m.message as ThreadReply;
      if (reply.seq !== seq) continue; // the late answer to a request that gave up
      if (reply.ok) return reply.value;
      throw deserializeError(reply.error);
    }
    Atomics.store(ch.slot, 0, 0);
    if (Atomics.load(ctl, kControl.state) !== kState.ready)
      throw brokerGone('the broker stopped before it answered');
    if (Date.now() > deadline)
      throw brokerGone(`the broker did not answer within ${kReplyDeadlineMs} ms`);
  }
}

/** Whether `dir` (a broker directory) still exists: a stopped broker removes it. */
export function directoryExists(dir: string): boolean {
  return existsSync(dir);
}
