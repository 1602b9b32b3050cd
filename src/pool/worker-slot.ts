// One pool worker seen from the parent: its handle, its state, the task it runs and the functions it knows.
import type { ResourceLimits } from 'node:worker_threads';
import type { LocalMethod, WorkerHandle } from '../backends/types.ts';
import { getLogger } from '../logging.ts';
import { deserializeError } from '../reduction/errors.ts';
import { decode } from '../reduction/values.ts';
import { spawnWorker } from '../runtime/spawn.ts';
import type { FromPoolWorker, PoolJob, TaskMessage, ToPoolWorker } from './protocol.ts';
import type { Task } from './tasks.ts';

/** What a slot reports to its pool. */
export interface SlotHost {
  slotReady(slot: WorkerSlot): void;
  slotInitFailed(slot: WorkerSlot, error: unknown): void;
  slotStarted(slot: WorkerSlot, task: Task): void;
  slotDone(slot: WorkerSlot, task: Task, value: unknown): void;
  slotFailed(slot: WorkerSlot, task: Task, error: unknown, index: number): void;
  slotExited(slot: WorkerSlot, exitCode: number, signal: string | null): void;
}

/** How to start a pool worker. */
export interface SlotSpec {
  readonly method: LocalMethod;
  readonly job: PoolJob;
  readonly name: string;
  /** As `nextIdentity()` gave it. */
  readonly identity: readonly number[];
  readonly resourceLimits: ResourceLimits | undefined;
}

/** A slot's life: starting → idle ⇄ busy → stopping → exited. */
export type SlotState = 'starting' | 'idle' | 'busy' | 'stopping' | 'exited';

/** One worker of a pool, from the parent's side. */
export class WorkerSlot {
  readonly name: string;
  state: SlotState = 'starting';
  /** The task it runs (one at a time). */
  current: Task | null = null;
  /** Tasks it has finished (for maxTasksPerChild). */
  tasksRun = 0;
  /** Set when it exits after an 'init-failed' report (no further report is due). */
  initFailed = false;
  /** Set once the pool asked it to stop (its exit is expected). */
  stopRequested = false;
  readonly #handle: WorkerHandle<ToPoolWorker>;
  readonly #host: SlotHost;
  /** Ids of the functions this worker has received in full; later tasks send the id only. */
  readonly #known = new Set<string>();
  #refed = true;
  /** When the current task was handed out, and how long recent answers took (ms, smoothed). */
  #sentAt = 0;
  #answerMs = 0;

  constructor(spec: SlotSpec, host: SlotHost, refed: boolean) {
    this.name = spec.name;
    this.#host = host;
    this.#handle = spawnWorker<'pool', FromPoolWorker, ToPoolWorker>('pool', spec.job, {
      method: spec.method,
      name: spec.name,
      identity: spec.identity,
      daemon: true,
      resourceLimits: spec.resourceLimits,
      fastPath: true,
      events: {
        message: (msg) => this.#onMessage(msg),
        exit: (code, signal) => {
          this.state = 'exited';
          getLogger().debug(`${this.name} exited with exitcode ${code}`);
          host.slotExited(this, code, signal);
        },
      },
    });
    if (!refed) this.setRef(false);
    getLogger().debug(`started ${this.name} (${spec.method})`);
  }

  /** The worker's pid (a thread's is this process's). */
  get pid(): number {
    return this.#handle.pid;
  }

  #onMessage(msg: FromPoolWorker): void {
    switch (msg.t) {
      case 'done': {
        const task = this.#take(msg.id);
        if (task)
          this.#host.slotDone(this, task, msg.packed ? msg.value : decode(msg.value, msg.walked));
        return;
      }
      case 'failed': {
        const task = this.#take(msg.id);
        if (task) this.#host.slotFailed(this, task, deserializeError(msg.error), msg.index);
        return;
      }
      case 'started':
        if (this.current?.id === msg.id) this.#host.slotStarted(this, this.current);
        return;
      case 'ready':
        if (this.state === 'starting') this.state = 'idle';
        this.#host.slotReady(this);
        return;
      case 'init-failed':
        this.initFailed = true;
        this.#host.slotInitFailed(this, deserializeError(msg.error));
        return;
      default:
        throw new Error(
          `assertion failed: unknown message from a pool worker: ${(msg as { t: unknown }).t}`,
        );
    }
  }

  /** The current task if `id` is it (a withdrawn task's late answer is ignored). */
  #take(id: number): Task | null {
    const task = this.current;
    if (!task || task.id !== id) return null;
    this.#answerMs = 0.75 * this.#answerMs + 0.25 * (performance.now() - this.#sentAt);
    this.current = null;
    this.tasksRun += 1;
    if (this.state === 'busy') this.state = 'idle';
    return task;
  }

  /**
   * Sends `task` to this (idle) worker. Throws what postMessage/IPC throws when the arguments
   * cannot be cloned; the slot is then still idle.
   */
  run(task: Task): void {
    const ref = task.fn;
    const known = this.#known.has(ref.id);
    const msg: TaskMessage = {
      t: 'task',
      id: task.id,
      fn: known ? ref.id : ref,
      mode: task.mode,
      args: task.args,
      walked: task.walked,
      packed: task.packed,
      timed: task.timeout !== undefined && task.timeout !== Infinity,
    };
    this.#handle.post(msg, task.transfer.length ? task.transfer : undefined);
    if (!known) this.#known.add(ref.id);
    this.current = task;
    this.state = 'busy';
    this.#sentAt = performance.now();
    // Short tasks: read the answer the moment it is posted rather than wait for a wake-up.
    const fast = this.#handle.fastPath;
    if (fast && this.#answerMs < fast.watchMs) fast.watch(() => this.current !== task);
  }

  /** Asks an idle worker to exit. */
  stop(): void {
    if (this.state === 'exited' || this.state === 'stopping') return;
    this.#stopping();
    this.#handle.post({ t: 'stop' });
  }

  /** Stops the worker at once (its task, if any, is abandoned). */
  kill(): void {
    if (this.state === 'exited') return;
    this.#stopping();
    this.#handle.kill();
  }

  /** Stops the worker as `terminate()` does (SIGTERM for a process). */
  terminate(): void {
    if (this.state === 'exited') return;
    this.#stopping();
    this.#handle.terminate();
  }

  // A stopping worker keeps Node alive until it has exited, so join() can see it go.
  #stopping(): void {
    this.setRef(true);
    this.stopRequested = true;
    this.state = 'stopping';
    this.current = null;
  }

  /** Whether the worker keeps the program alive (only while the pool has work, or it is stopping). */
  setRef(on: boolean): void {
    if (on === this.#refed || this.state === 'exited' || this.state === 'stopping') return;
    this.#refed = on;
    if (on) this.#handle.ref();
    else this.#handle.unref();
  }
}
