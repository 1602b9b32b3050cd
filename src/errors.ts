// The library's error classes: every one extends ProcessError and carries a stable `code`.

/**
 * Base class of every error this library raises on its own behalf.
 * @example
 * try { await pool.map(f, xs) } catch (e) { if (e instanceof mp.ProcessError) console.log(e.code) }
 */
export class ProcessError extends Error {
  /** A stable, machine-readable identifier such as `'ERR_TIMEOUT'`. */
  readonly code: string;
  constructor(message = '', code = 'ERR_PROCESS', options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * A wait ran past its timeout (`AsyncResult.get(timeout)`, `Process.join` never throws it).
 * @example
 * await pool.applyAsync(slow).get(10).catch((e) => e instanceof mp.TimeoutError)
 */
export class TimeoutError extends ProcessError {
  constructor(message = 'timed out', options?: ErrorOptions) {
    super(message, 'ERR_TIMEOUT', options);
  }
}

/**
 * `Queue.get` found nothing (non-blocking, or after its timeout).
 * @example
 * try { q.getNowait() } catch (e) { if (e instanceof mp.Empty) console.log('empty') }
 */
export class Empty extends ProcessError {
  constructor(message = 'queue is empty', options?: ErrorOptions) {
    super(message, 'ERR_QUEUE_EMPTY', options);
  }
}

/**
 * `Queue.put` found the queue full (non-blocking, or after its timeout).
 * @example
 * try { q.putNowait(1) } catch (e) { if (e instanceof mp.Full) console.log('full') }
 */
export class Full extends ProcessError {
  constructor(message = 'queue is full', options?: ErrorOptions) {
    super(message, 'ERR_QUEUE_FULL', options);
  }
}

/**
 * A read from a connection whose every writer has closed, once the data is drained.
 * @example
 * try { await conn.recv() } catch (e) { if (e instanceof mp.EOFError) console.log('peer closed') }
 */
export class EOFError extends ProcessError {
  constructor(message = 'end of file: the other end is closed', options?: ErrorOptions) {
    super(message, 'ERR_EOF', options);
  }
}

/**
 * `recvBytesInto` got a message longer than the buffer; `data` holds the whole message.
 * @example
 * try { await conn.recvBytesInto(small) } catch (e) { if (e instanceof mp.BufferTooShort) use(e.data) }
 */
export class BufferTooShort extends ProcessError {
  /** The complete message, which has been consumed. */
  readonly data: Uint8Array;
  constructor(
    data: Uint8Array,
    message = `buffer too short for a message of ${data.byteLength} bytes`,
  ) {
    super(message, 'ERR_BUFFER_TOO_SHORT');
    this.data = data;
  }
}

/**
 * A `Barrier` was broken (timeout, `abort()`, `reset()` or a throwing action) while parties waited.
 * @example
 * try { await barrier.wait(100) } catch (e) { if (e instanceof mp.BrokenBarrierError) console.log('broken') }
 */
export class BrokenBarrierError extends ProcessError {
  constructor(message = 'the barrier is broken', options?: ErrorOptions) {
    super(message, 'ERR_BROKEN_BARRIER', options);
  }
}

/**
 * A peer failed the authentication handshake.
 * @example
 * new mp.AuthenticationError('digest received was wrong')
 */
export class AuthenticationError extends ProcessError {
  constructor(message = 'authentication failed', options?: ErrorOptions) {
    super(message, 'ERR_AUTHENTICATION', options);
  }
}

/**
 * An error raised on the other side that could not be rebuilt as its own class.
 * @example
 * try { await proxy.method() } catch (e) { if (e instanceof mp.RemoteError) console.log(e.message) }
 */
export class RemoteError extends ProcessError {
  constructor(message = 'remote error', options?: ErrorOptions) {
    super(message, 'ERR_REMOTE', options);
  }
}

/**
 * The remote stack of an error raised in a worker; set as that error's `cause`, as Python does.
 * @example
 * try { await pool.apply(fails) } catch (e) { console.log((e.cause as mp.RemoteTraceback).tb) }
 */
export class RemoteTraceback extends ProcessError {
  /** The stack text as printed in the worker. */
  readonly tb: string;
  constructor(tb: string, options?: ErrorOptions) {
    super(`\n"""\n${tb}\n"""`, 'ERR_REMOTE_TRACEBACK', options);
    this.tb = tb;
  }
}

/**
 * A function cannot travel to a worker (it captures local state, or is bound, native or a class).
 * @example
 * try { pool.map((x) => x + local, xs) } catch (e) { if (e instanceof mp.PicklingError) console.log(e.message) }
 */
export class PicklingError extends ProcessError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ERR_PICKLING', options);
  }
}

/**
 * A value cannot be cloned to or from a worker; the message names the argument or result.
 * @example
 * await pool.apply((f) => 1, [() => 0]).catch((e) => e instanceof mp.DataCloneError)
 */
export class DataCloneError extends ProcessError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ERR_DATA_CLONE', options);
  }
}

/**
 * A Process or Pool was started while a worker was still importing its target's module:
 * the program's main code is not guarded with `if (mp.isMainProcess())`.
 * @example
 * if (mp.isMainProcess()) { new mp.Process({ target: main }).start() }
 */
export class BootstrapError extends ProcessError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ERR_BOOTSTRAP', options);
  }
}

/**
 * A worker died while it ran a task; the pool replaced it.
 * `exitCode` follows Python's convention (−9 after SIGKILL); `signal` names the signal, if any.
 * @example
 * try { await pool.apply(() => process.exit(3)) } catch (e) { if (e instanceof mp.WorkerDiedError) console.log(e.exitCode) }
 */
export class WorkerDiedError extends ProcessError {
  readonly exitCode: number | null;
  readonly signal: string | null;
  constructor(message: string, exitCode: number | null, signal: string | null = null) {
    super(message, 'ERR_WORKER_DIED');
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

/**
 * The pool was terminated before this task finished.
 * @example
 * const r = pool.apply(slow); await pool.terminate(); await r.catch((e) => e instanceof mp.PoolTerminatedError)
 */
export class PoolTerminatedError extends ProcessError {
  constructor(
    message = 'the pool was terminated before the task finished',
    options?: ErrorOptions,
  ) {
    super(message, 'ERR_POOL_TERMINATED', options);
  }
}

/**
 * The operation was cancelled through its `AbortSignal`; `cause` is the signal's reason.
 * @example
 * const ac = new AbortController(); const r = pool.apply(slow, [], { signal: ac.signal }); ac.abort()
 */
export class AbortError extends ProcessError {
  constructor(message = 'the operation was aborted', options?: ErrorOptions) {
    super(message, 'ERR_ABORTED', options);
  }
}

/**
 * A named shared resource (SharedMemory name) already exists: Python's `FileExistsError`.
 * @example
 * try { new mp.SharedMemory({ name: 'x', create: true, size: 8 }) } catch (e) { if (e instanceof mp.FileExistsError) {} }
 */
export class FileExistsError extends ProcessError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ERR_FILE_EXISTS', options);
  }
}

/**
 * A named shared resource (SharedMemory name) does not exist: Python's `FileNotFoundError`.
 * @example
 * try { new mp.SharedMemory({ name: 'missing' }) } catch (e) { if (e instanceof mp.FileNotFoundError) {} }
 */
export class FileNotFoundError extends ProcessError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ERR_FILE_NOT_FOUND', options);
  }
}

/** Stable codes of {@link InvalidStateError}. */
export type InvalidStateCode =
  | 'ERR_ALREADY_STARTED'
  | 'ERR_NOT_STARTED'
  | 'ERR_CLOSED'
  | 'ERR_READ_ONLY'
  | 'ERR_WRITE_ONLY'
  | 'ERR_BROKEN_PIPE'
  | 'ERR_POOL_NOT_RUNNING'
  | 'ERR_POOL_RUNNING'
  | 'ERR_RELEASED_TOO_MANY_TIMES'
  | 'ERR_NOT_OWNER'
  | 'ERR_LOCK_NOT_HELD'
  | 'ERR_DAEMON_CHILDREN'
  | 'ERR_STILL_RUNNING'
  | 'ERR_CONTEXT_ALREADY_SET'
  | 'ERR_NOT_CLOSED'
  | 'ERR_CONCRETE_CONTEXT'
  | 'ERR_NOT_READY'
  | 'ERR_BROKER_GONE';

/**
 * An object was used in a state that does not allow it (Python's `ValueError`/`AssertionError`
 * state errors), e.g. starting a process twice or submitting to a closed pool.
 * @example
 * try { p.start() } catch (e) { if (e instanceof mp.InvalidStateError && e.code === 'ERR_ALREADY_STARTED') {} }
 */
export class InvalidStateError extends ProcessError {
  declare readonly code: InvalidStateCode;
  constructor(message: string, code: InvalidStateCode, options?: ErrorOptions) {
    super(message, code, options);
  }
}
