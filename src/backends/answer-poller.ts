// Reads thread workers' answers from their answer ports while the parent would otherwise sleep.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

// Why: a worker's answer wakes an idle parent through its event loop, a wake-up that costs tens
// of µs on a virtual machine, far more than a short task itself. For a short while after it
// hands out a task, the pool instead looks at the answer port on every turn of its event loop
// (setImmediate keeps the loop turning without blocking timers or I/O), and reads the answer
// with receiveMessageOnPort the moment it is posted. Only for workers whose recent answers came
// back within that window, so long tasks cost nothing; off on a single CPU, where the parent's
// looking would take the worker's time.

/**
 * How long after handing out a task the parent looks for its answer (ms): a worker that is awake
 * answers a short task within a few µs; one that has to be woken takes longer, and then looking
 * would only take CPU from it.
 */
export const kPollMs = availableParallelism() > 1 ? 0.05 : 0;

/** One port being watched: how to hand over a message, and until when to look. */
interface Watch {
  readonly port: MessagePort;
  readonly deliver: (msg: unknown) => void;
  /** Whether the awaited answer has come (by this poller or the port's own listener). */
  readonly answered: () => boolean;
  deadline: number;
}

const watches = new Set<Watch>();
let scheduled = false;

function turn(): void {
  scheduled = false;
  const now = performance.now();
  for (const w of watches) {
    const got = w.answered() ? undefined : receiveMessageOnPort(w.port);
    if (got) w.deliver(got.message);
    if (w.answered() || now >= w.deadline) watches.delete(w);
  }
  if (watches.size > 0) schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(turn);
}

/**
 * Looks at `port` on every turn of the event loop for up to {@link kPollMs}, delivering what
 * arrives, until `answered()` holds.
 * @example
 * watchAnswers(port, (msg) => slot.onMessage(msg), () => slot.current === null)
 */
export function watchAnswers(
  port: MessagePort,
  deliver: (msg: unknown) => void,
  answered: () => boolean,
): void {
  if (kPollMs === 0) return;
  watches.add({ port, deliver, answered, deadline: performance.now() + kPollMs });
  schedule();
}

/**
 * Delivers every message already waiting on `port` (a worker that exited may have answered
 * just before: its answer must count before its exit does).
 * @example
 * drainAnswers(port, (msg) => slot.onMessage(msg))
 */
export function drainAnswers(port: MessagePort, deliver: (msg: unknown) => void): void {
  for (let got = receiveMessageOnPort(port); got; got = receiveMessageOnPort(port)) {
    deliver(got.message);
  }
}
