// The pool's engine: its workers, its queue of tasks, and what happens when a worker finishes, fails or dies.
import { capabilitiesOf } from '../backends/index.ts';
import type { LocalMethod } from '../backends/types.ts';
import { PoolTerminatedError, TimeoutError, WorkerDiedError } from '../errors.ts';
import { getLogger } from '../logging.ts';
import { nextIdentity } from '../runtime/state.ts';
import type { PoolOptions } from './options.ts';
import type { PoolJob } from './protocol.ts';
import { type Job, type JobHost, type Task, taskCloneError } from './tasks.ts';
import { type SlotHost, WorkerSlot } from './worker-slot.ts';

/** Python's pool states: RUN, then CLOSE or TERMINATE. */
export type PoolState = 'run' | 'close' | 'terminate';

/** How long terminate() lets a process worker handle SIGTERM before SIGKILL. */
const kKillGraceMs = 2000;

/** What the scheduler is built from (validated by the Pool). */
export interface SchedulerSpec {
  readonly method: LocalMethod;
  readonly processes: number;
  readonly maxTasks: number | null;
  readonly taskTimeout: number | undefined;
  readonly resourceLimits: PoolOptions['resourceLimits'];
  readonly job: PoolJob;
  /** Delivers a user callback's error to the Pool (its 'error' event or a warning). */
  readonly onCallbackError: (error: unknown, what: string, text: string) => void;
}

/**
 * Runs tasks on a fixed number of workers, one task per worker at a time, replacing workers that
 * exit; settles every task it accepted, whatever happens to its worker.
 */
export class Scheduler implements JobHost, SlotHost {
  readonly method: LocalMethod;
  readonly processes: number;
  readonly taskTimeout: number | undefined;
  readonly #maxTasks: number | null;
  readonly #resourceLimits: PoolOptions['resourceLimits'];
  readonly #job: PoolJob;
  readonly #onCallbackError: SchedulerSpec['onCallbackError'];
  #state: PoolState = 'run';
  #broken: { error: unknown } | null = null;
  readonly #slots = new Set<WorkerSlot>();
  readonly #readied = new WeakSet<WorkerSlot>();
  #queue: Task[] = [];
  #head = 0;
  /** Tasks queued or running; the workers keep Node alive only while it is above 0. */
  #active = 0;
  #refed = false;
  #unrefScheduled = false;
  readonly #jobs = new Set<Job>();
  readonly #exited: Promise<void>;
  #resolveExited!: () => void;

  constructor(spec: SchedulerSpec) {
    this.method = spec.method;
    this.processes = spec.processes;
    this.taskTimeout = spec.taskTimeout;
    this.#maxTasks = spec.maxTasks;
    this.#resourceLimits = spec.resourceLimits;
    this.#job = spec.job;
    this.#onCallbackError = spec.onCallbackError;
    this.#exited = new Promise<void>((resolve) => (this.#resolveExited = resolve));
    for (let i = 0; i < spec.processes; i++) this.#spawn();
  }

  /** The pool's state. */
  get state(): PoolState {
    return this.#state;
  }

  /** Settles once every worker has exited after close() or terminate(). */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /** RUN → CLOSE: the workers exit once the pending work is done. */
  close(): void {
    if (this.#state !== 'run') return;
    this.#state = 'close';
    getLogger().debug('closing pool');
    this.#maybeStop();
    this.#checkExited();
  }

  /** Stops every worker and rejects everything pending with PoolTerminatedError. */
  terminate(): void {
    if (this.#state === 'terminate') return;
    this.#state = 'terminate';
    getLogger().debug('terminating pool');
    for (let i = this.#head; i < this.#queue.length; i++) this.#settleTask(this.#queue[i]!);
    this.#queue = [];
    this.#head = 0;
    for (const slot of this.#slots) {
      if (slot.current) this.#settleTask(slot.current);
      slot.terminate();
      if (capabilitiesOf(this.method).ownProcess)
        setTimeout(() => slot.kill(), kKillGraceMs).unref();
    }
    const error = new PoolTerminatedError();
    for (const job of [...this.#jobs]) job.poolTerminated(error);
    this.#jobs.clear();
    this.#checkExited();
  }

  // --- JobHost --------------------------------------------------------------------------------

  submit(task: Task): void {
    this.#submit(task);
  }

  cancel(task: Task, kill: boolean): void {
    this.#cancel(task, kill);
  }

  jobStarted(job: Job): void {
    this.#jobs.add(job);
  }

  jobEnded(job: Job): void {
    if (!this.#jobs.delete(job)) return;
    this.#maybeStop();
    this.#refill();
    this.#checkExited();
  }

  /** A user callback threw: log it, and let the pool emit it. */
  reportCallbackError(error: unknown, what: string): void {
    const text = error instanceof Error ? (error.stack ?? String(error)) : String(error);
    getLogger().error(`a pool ${what} threw: ${text}`);
    try {
      this.#onCallbackError(error, what, text);
    } catch (e) {
      getLogger().error(`a pool 'error' listener threw: ${String(e)}`);
    }
  }

  // --- SlotHost -------------------------------------------------------------------------------

  slotReady(slot: WorkerSlot): void {
    this.#readied.add(slot);
    if (this.#broken || (this.#state === 'close' && this.#jobs.size === 0 && !this.#active))
      slot.stop();
    else this.#dispatch();
  }

  slotInitFailed(_slot: WorkerSlot, error: unknown): void {
    this.#break(error);
  }

  slotStarted(_slot: WorkerSlot, task: Task): void {
    if (task.timeout === undefined || task.timeout === Infinity) return;
    task.timer = setTimeout(() => this.#timedOut(task), Math.max(0, task.timeout));
  }

  slotDone(slot: WorkerSlot, task: Task, value: unknown): void {
    this.#finished(slot, task, true, value, 0);
  }

  slotFailed(slot: WorkerSlot, task: Task, error: unknown, index: number): void {
    this.#finished(slot, task, false, error, index);
  }

  slotExited(slot: WorkerSlot, exitCode: number, signal: string | null): void {
    this.#exitedSlot(slot, exitCode, signal, this.#readied.has(slot));
  }

  // --- workers --------------------------------------------------------------------------------

  #spawn(): void {
    const identity = nextIdentity();
    const slot = new WorkerSlot(
      {
        method: this.method,
        job: this.#job,
        name: `PoolWorker-${identity.join(':')}`,
        identity,
        resourceLimits: this.#resourceLimits,
      },
      this,
      this.#refed,
    );
    this.#slots.add(slot);
  }

  /** Starts workers until the pool has its number of live ones (unless it is winding down). */
  #refill(): void {
    if (this.#broken || this.#state === 'terminate') return;
    if (this.#state === 'close' && this.#jobs.size === 0 && this.#active === 0) return;
    let live = 0;
    for (const slot of this.#slots) if (slot.state !== 'stopping') live++;
    for (; live < this.processes; live++) {
      getLogger().debug('starting a replacement worker');
      this.#spawn();
    }
  }

  /** After close(): stop idle workers (and those still starting) once no job is pending. */
  #maybeStop(): void {
    if (this.#state !== 'close' || this.#jobs.size > 0 || this.#active > 0) return;
    for (const slot of this.#slots) {
      if (slot.state === 'idle') slot.stop();
      else if (slot.state === 'starting') slot.terminate();
    }
  }

  #checkExited(): void {
    if (this.#state === 'run' || this.#slots.size > 0) return;
    if (this.#state === 'close' && (this.#jobs.size > 0 || this.#active > 0) && !this.#broken)
      return;
    this.#resolveExited();
  }

  #setRef(on: boolean): void {
    this.#refed = on;
    for (const slot of this.#slots) slot.setRef(on);
  }

  // --- tasks ---------------------------------------------------------------------------------

  #submit(task: Task): void {
    if (this.#state === 'terminate') {
      task.state = 'settled';
      task.owner.taskFailed(task, new PoolTerminatedError(), 0);
      return;
    }
    if (this.#broken) {
      task.state = 'settled';
      task.owner.taskFailed(task, this.#broken.error, 0);
      return;
    }
    if (this.#active++ === 0 && !this.#refed) this.#setRef(true);
    this.#queue.push(task);
    this.#dispatch();
  }

  #nextQueued(): Task | null {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const task = queue[this.#head++]!;
      if (task.state === 'queued') {
        if (this.#head > 1024 && this.#head * 2 > queue.length) {
          this.#queue = queue.slice(this.#head);
          this.#head = 0;
        }
        return task;
      }
    }
    if (this.#head > 0) {
      this.#queue = [];
      this.#head = 0;
    }
    return null;
  }

  #dispatch(): void {
    if (this.#head >= this.#queue.length) return;
    for (const slot of this.#slots) {
      while (slot.state === 'idle') {
        const task = this.#nextQueued();
        if (!task) return;
        this.#runOn(slot, task);
      }
    }
  }

  #runOn(slot: WorkerSlot, task: Task): void {
    try {
      slot.run(task);
    } catch (error) {
      this.#settleTask(task);
      task.owner.taskFailed(task, taskCloneError(task, error), 0);
      return;
    }
    task.state = 'running';
    task.slot = slot;
  }

  /** Marks a task settled (once) and releases what it held. */
  #settleTask(task: Task): boolean {
    if (task.state === 'settled') return false;
    task.state = 'settled';
    task.slot = null;
    if (task.timer) clearTimeout(task.timer);
    if (--this.#active === 0 && !this.#unrefScheduled) {
      // Unref on the next turn: sequential apply() calls would otherwise toggle it every task.
      this.#unrefScheduled = true;
      setImmediate(() => {
        this.#unrefScheduled = false;
        if (this.#active === 0 && this.#refed) this.#setRef(false);
      });
    }
    return true;
  }

  #cancel(task: Task, kill: boolean): void {
    if (task.state === 'queued') this.#settleTask(task);
    else if (task.state === 'running' && kill) {
      const slot = task.slot as WorkerSlot;
      this.#settleTask(task);
      slot.kill();
      this.#refill();
    }
  }

  /** A worker finished a task: give it the next one first, then deliver. */
  #finished(slot: WorkerSlot, task: Task, ok: boolean, value: unknown, index: number): void {
    this.#settleTask(task);
    if (this.#maxTasks !== null && slot.tasksRun >= this.#maxTasks) {
      slot.stop();
      this.#refill();
    } else {
      this.#dispatch();
    }
    if (ok) task.owner.taskDone(task, value);
    else task.owner.taskFailed(task, value, index);
    this.#maybeStop();
    this.#checkExited();
  }

  #timedOut(task: Task): void {
    if (task.state !== 'running') return;
    const slot = task.slot as WorkerSlot;
    this.#settleTask(task);
    slot.kill();
    this.#refill();
    const error = new TimeoutError(
      `a task of ${task.label} ran longer than its timeout of ${task.timeout} ms; ${slot.name} was stopped and replaced`,
    );
    task.owner.taskFailed(task, error, 0);
  }

  /** The initializer failed (or a worker died while starting): fail queued and future tasks. */
  #break(error: unknown): void {
    if (this.#broken || this.#state === 'terminate') return;
    this.#broken = { error };
    getLogger().debug('pool broken: a worker could not start');
    const queued = this.#queue.slice(this.#head).filter((t) => t.state === 'queued');
    this.#queue = [];
    this.#head = 0;
    for (const task of queued) {
      this.#settleTask(task);
      task.owner.taskFailed(task, error, 0);
    }
    for (const slot of this.#slots) {
      if (slot.state === 'idle') slot.stop();
      else if (slot.state === 'starting') slot.terminate();
    }
    this.#checkExited();
  }

  #exitedSlot(slot: WorkerSlot, exitCode: number, signal: string | null, ready: boolean): void {
    this.#slots.delete(slot);
    const task = slot.current;
    if (task && this.#settleTask(task)) {
      const how = signal ? `signal ${signal}` : `exit code ${exitCode}`;
      const error = new WorkerDiedError(
        `${slot.name} died (${how}) while running a task of ${task.label}; the pool replaced it`,
        exitCode,
        signal,
      );
      task.owner.taskFailed(task, error, 0);
    }
    if (!ready && !slot.initFailed && !slot.stopRequested && this.#state !== 'terminate') {
      const how = signal ? `signal ${signal}` : `exit code ${exitCode}`;
      this.#break(
        new WorkerDiedError(
          `${slot.name} died (${how}) before it was ready (while loading or running the initializer); the pool will not respawn it`,
          exitCode,
          signal,
        ),
      );
    }
    this.#refill();
    this.#maybeStop();
    this.#checkExited();
  }
}
