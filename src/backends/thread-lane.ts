// The thread backend's fast path: a doorbell rung after each post, plus a port for the worker's answers.
//
// A message between threads normally wakes its receiver through the receiver's event loop: a
// wake-up that costs tens of µs on a virtual machine, far more than a short task. On a lane, a
// worker between tasks reads its port directly and sleeps on the doorbell instead, and the
// parent can read answers from their own port without waiting for its loop (answer-poller.ts).
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { notify, waitSync } from '../shared/atomics.ts';
import { allocateShared } from '../shared/memory.ts';
import type { Message } from './types.ts';

/**
 * What a thread worker gets of its lane, with its workerData.
 * @example
 * new Worker(url, { workerData: { boot, lane: lane.wire }, transferList: [lane.wire.answers] })
 */
export interface LaneWire {
  /** An Int32 the parent bumps (and notifies) after each message it posts. */
  readonly doorbell: SharedArrayBuffer;
  /** The port the worker's answers travel on (moved to the worker). */
  readonly answers: MessagePort;
}

/**
 * The parent's side of a lane: the doorbell it rings and the port it reads answers from.
 * @example
 * const lane = new ParentLane()
 * worker.postMessage(msg)
 * lane.ring()
 */
export class ParentLane {
  /** What the worker gets (its answer port must be in the transfer list). */
  readonly wire: LaneWire;
  /** Where the worker's answers arrive. */
  readonly answers: MessagePort;
  readonly #bell: Int32Array;

  constructor() {
    const doorbell = allocateShared(4);
    const { port1, port2 } = new MessageChannel();
    this.#bell = new Int32Array(doorbell);
    this.answers = port1;
    this.wire = { doorbell, answers: port2 };
  }

  /** Wakes the worker if it sleeps on the doorbell (call after each post). */
  ring(): void {
    Atomics.add(this.#bell, 0, 1);
    notify(this.#bell, 0);
  }

  /** Closes the answer port, and with it the worker's end (the worker is gone, or never started). */
  close(): void {
    this.answers.close();
  }
}

/**
 * How long a worker between tasks watches its doorbell before it sleeps (ms). A task that
 * follows within that time is picked up without a futex wake-up, which costs tens of µs on a
 * virtual machine; a thread has its core to itself for that moment. Off on a single CPU.
 */
const kSpinMs = availableParallelism() > 1 ? 0.1 : 0;

/** How long an idle worker sleeps on its doorbell before going back to its event loop (ms). */
const kIdleWaitMs = 20;

/** Spins while the doorbell still reads `seen`, up to kSpinMs; true if it rang meanwhile. */
function spinWhile(bell: Int32Array, seen: number): boolean {
  if (kSpinMs === 0) return false;
  const end = performance.now() + kSpinMs;
  do {
    for (let i = 0; i < 64; i++) if (Atomics.load(bell, 0) !== seen) return true;
  } while (performance.now() < end);
  return false;
}

/**
 * The worker's side of a lane: hands each message of `port` to `handle` (true once it has dealt
 * with it). After a message dealt with at once, it does not go back to the event loop: it reads
 * the port directly and sleeps on the doorbell, for up to kIdleWaitMs without work. Returns the
 * function that resumes that way (after a message `handle` left pending).
 * @example
 * const resume = serveLane(wire, parentPort, (msg) => handle(msg))
 */
export function serveLane(
  wire: LaneWire,
  port: MessagePort,
  handle: (msg: Message) => boolean,
): () => void {
  const bell = new Int32Array(wire.doorbell);
  let serving = false;
  const serve = (): void => {
    if (serving) return;
    serving = true;
    try {
      for (;;) {
        const seen = Atomics.load(bell, 0);
        const next = receiveMessageOnPort(port);
        if (next) {
          if (!handle(next.message as Message)) return;
          continue;
        }
        if (spinWhile(bell, seen)) continue;
        if (waitSync(bell, 0, seen, kIdleWaitMs) === 'timed-out') return;
      }
    } finally {
      serving = false;
    }
  };
  port.on('message', (msg: Message) => {
    if (handle(msg)) serve();
  });
  return serve;
}
