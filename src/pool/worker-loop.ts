// The pool worker's side: run the initializer, then each task the parent sends, one at a time.
import type { ParentChannel } from '../backends/types.ts';
import { DataCloneError } from '../errors.ts';
import { getLogger } from '../logging.ts';
import { serializeError } from '../reduction/errors.ts';
import type { FnRef } from '../reduction/functions.ts';
import { loadAllKinds } from '../reduction/kinds.ts';
import { reviveFunction, settleRevivals } from '../reduction/revive.ts';
import { decode, encode } from '../reduction/values.ts';
import { exitWorker } from '../runtime/worker.ts';
import { kPackThreshold } from './chunking.ts';
import type { FromPoolWorker, PoolJob, TaskMessage, ToPoolWorker } from './protocol.ts';

/** A pool worker's channel to its pool. */
type PoolChannel = ParentChannel<ToPoolWorker, FromPoolWorker>;

/** A thrown value and the position of the call that threw it. */
class CallError {
  constructor(
    readonly error: unknown,
    readonly index: number,
  ) {}
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/** Functions by id: resolved ones directly, the others as the promise of their revival. */
const functions = new Map<string, Function | Promise<Function>>();

function lookup(fn: FnRef | string): Function | Promise<Function> {
  if (typeof fn === 'string') {
    const found = functions.get(fn);
    if (!found) throw new Error(`assertion failed: pool worker does not know function ${fn}`);
    return found;
  }
  let found = functions.get(fn.id);
  if (!found) {
    const revived = reviveFunction(fn);
    functions.set(fn.id, revived);
    // Remember the function itself once loaded so later tasks skip the await.
    revived.then((f) => functions.set(fn.id, f)).catch(() => {});
    found = revived;
  }
  return found;
}

/**
 * Calls `fn` on every item (map/starmap) with a fast synchronous path; switches to awaiting
 * as soon as a call returns a thenable. Results of all-number chunks come back packed.
 */
async function runMany(fn: Function, msg: TaskMessage): Promise<unknown[] | Float64Array> {
  const items = msg.args as ArrayLike<unknown>;
  const star = msg.mode === 'starmap';
  const n = items.length;
  let packed: Float64Array | null = n >= kPackThreshold ? new Float64Array(n) : null;
  let out: unknown[] | null = packed ? null : new Array(n);
  for (let i = 0; i < n; i++) {
    let r: unknown;
    try {
      r = star ? fn(...(items[i] as unknown[])) : fn(items[i]);
      if (isThenable(r)) r = await r;
    } catch (error) {
      throw new CallError(error, i);
    }
    if (packed) {
      if (typeof r === 'number') {
        packed[i] = r;
        continue;
      }
      out = Array.from(packed.subarray(0, i));
      out.length = n;
      packed = null;
    }
    out![i] = r;
  }
  return packed ?? out!;
}

/** Id of the last task whose answer has been posted (tells a synchronous finish apart). */
let lastAnswered = -1;

// A worker whose console output the parent forwards (a thread's) sends it on a channel of its own,
// after the answer if nothing waits: a pool terminated right after a result would lose what the
// task printed. So such a worker notes when a task writes to stdout/stderr and waits until that
// output has reached the parent before it answers (a child process writes to the inherited
// descriptors directly, synchronously).
let printed = false;

function watchStdio(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((...args: Parameters<typeof write>) => {
      printed = true;
      return write(...args);
    }) as typeof stream.write;
  }
}

function flushStdio(): Promise<unknown> {
  printed = false;
  return Promise.all(
    [process.stdout, process.stderr].map(
      (s) => new Promise<void>((resolve) => s.write('', () => resolve())),
    ),
  );
}

/** Runs a task and posts its answer; a task that never awaits is answered before this returns. */
async function runTask(msg: TaskMessage, channel: PoolChannel): Promise<void> {
  try {
    let value: unknown;
    let packedResult = false;
    try {
      let fn = lookup(msg.fn);
      if (!(typeof fn === 'function')) fn = await fn;
      if (msg.timed) channel.answer({ t: 'started', id: msg.id });
      // Arguments holding library objects: load every reviver first, and let revivals they start
      // (a Barrier's action) finish before the task runs. Plain arguments skip both.
      if (msg.walked) await loadAllKinds();
      if (msg.mode === 'apply') {
        try {
          const args = decode(msg.args, msg.walked) as unknown[];
          if (msg.walked) await settleRevivals();
          value = fn(...args);
          if (isThenable(value)) value = await value;
        } catch (error) {
          throw new CallError(error, 0);
        }
      } else {
        const args = msg.packed ? msg.args : decode(msg.args, msg.walked);
        if (msg.walked) await settleRevivals();
        value = await runMany(fn, { ...msg, args });
        packedResult = value instanceof Float64Array;
      }
    } catch (error) {
      const failure = error instanceof CallError ? error : new CallError(error, 0);
      if (printed) await flushStdio();
      channel.answer({
        t: 'failed',
        id: msg.id,
        error: serializeError(failure.error),
        index: failure.index,
      });
      return;
    }
    if (printed) await flushStdio();
    if (packedResult) {
      const buffer = (value as Float64Array).buffer as ArrayBuffer;
      channel.answer(
        { t: 'done', id: msg.id, value, walked: false, packed: true },
        channel.destination.canTransfer ? [buffer] : undefined,
      );
      return;
    }
    try {
      const enc = encode(value, channel.destination);
      channel.answer(
        { t: 'done', id: msg.id, value: enc.value, walked: enc.walked, packed: false },
        enc.transfer.length ? enc.transfer : undefined,
      );
    } catch (error) {
      const what =
        msg.mode === 'apply' ? 'the result of the task' : `a result of the ${msg.mode} task`;
      const reason = error instanceof Error ? error.message : String(error);
      channel.answer({
        t: 'failed',
        id: msg.id,
        error: serializeError(
          new DataCloneError(`Cannot send ${what} back to the parent: ${reason}`, { cause: error }),
        ),
        index: 0,
      });
    }
  } finally {
    lastAnswered = msg.id;
  }
}

async function runInitializer(job: PoolJob): Promise<void> {
  if (!job.initializer) return;
  const init = await reviveFunction(job.initializer);
  if (job.walked) await loadAllKinds();
  const initargs = decode(job.initargs, job.walked) as unknown[];
  await settleRevivals();
  const r = init(...initargs);
  if (isThenable(r)) await r;
}

/**
 * Entry point called by the worker runtime for a pool worker: runs the initializer, says it is
 * ready, then serves tasks until asked to stop.
 * @example
 * await runPoolWorker(boot.job as PoolJob, parentChannel())
 */
export async function runPoolWorker(job: PoolJob, channel: PoolChannel): Promise<void> {
  // A worker whose parent died has no one to work for.
  channel.onDisconnect(() => process.exit(0));
  if (channel.forwardsOutput) watchStdio();
  // The parent sends nothing before 'ready', so the listener can wait for the initializer.
  try {
    await runInitializer(job);
  } catch (error) {
    getLogger().debug('initializer failed; worker exiting');
    channel.post({ t: 'init-failed', error: serializeError(error) });
    await exitWorker(1);
    return;
  }
  /** Handles one message; true when it is fully done (a task that finished synchronously). */
  const handle = (msg: ToPoolWorker): boolean => {
    switch (msg.t) {
      case 'task': {
        const running = runTask(msg, channel);
        if (lastAnswered === msg.id) return true;
        void running.then(resume);
        return false;
      }
      case 'stop':
        getLogger().debug('worker exiting');
        void exitWorker(0);
        return false;
      default:
        throw new Error(
          `assertion failed: unknown message to a pool worker: ${(msg as { t: unknown }).t}`,
        );
    }
  };
  // On the backend's fast path the channel takes back-to-back tasks without going back to the
  // event loop; `resume` goes back to taking them that way after a task that awaited.
  const resume = channel.serve(handle);
  channel.post({ t: 'ready' });
  resume();
}
