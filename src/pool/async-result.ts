// AsyncResult: the handle of a submitted pool job (Python's ApplyResult/MapResult), awaitable like a Promise.
import { InvalidStateError, TimeoutError } from '../errors.ts';
import { checkTimeout } from '../validate.ts';

type State = 'pending' | 'fulfilled' | 'rejected';

/** Settles an AsyncResult; module-internal (the pool is the only producer). */
export let settleResult: <T>(result: AsyncResult<T>, ok: boolean, value: unknown) => void;

/**
 * The result of `applyAsync`, `mapAsync` or `starmapAsync`. Await it like a Promise, or use
 * Python's methods: `get(timeout)` (rejects with {@link TimeoutError} when the timeout passes
 * first; the task keeps running), `wait(timeout)`, `ready()`, `successful()`.
 * A failure nobody asks for is not an unhandled rejection (as in Python, it waits to be read).
 * @example
 * const r = pool.applyAsync(square, [7])
 * console.log(r.ready())       // false, most likely
 * console.log(await r.get(1000)) // 49
 * console.log(r.successful())    // true
 */
export class AsyncResult<T> implements PromiseLike<T> {
  #state: State = 'pending';
  readonly #promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;

  static {
    settleResult = <U>(result: AsyncResult<U>, ok: boolean, value: unknown) =>
      result.#settle(ok, value);
  }

  /** @internal Created by the pool. */
  constructor() {
    this.#promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Reading the result is optional (Python never complains): keep an unread failure quiet.
    this.#promise.catch(() => {});
  }

  #settle(ok: boolean, value: unknown): void {
    if (this.#state !== 'pending') return;
    this.#state = ok ? 'fulfilled' : 'rejected';
    if (ok) this.#resolve(value as T);
    else this.#reject(value);
  }

  /**
   * The value, or the task's error. With a timeout (ms) it rejects with {@link TimeoutError} if the
   * result is not ready in time; `0` or less checks without waiting. It may be called repeatedly.
   * @example
   * const v = await pool.applyAsync(slow).get(5000)
   */
  get(timeout?: number): Promise<T> {
    try {
      checkTimeout(timeout);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#state !== 'pending' || timeout === undefined || timeout === null) {
      return this.#promise.then((v) => v);
    }
    if (timeout === Infinity) return this.#promise.then((v) => v);
    if (timeout <= 0) return Promise.reject(new TimeoutError(''));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeoutError('')), timeout);
      this.#promise.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  /**
   * Waits until the result is ready or `timeout` ms pass; never rejects (resolves to undefined,
   * as Python's `wait` returns None).
   * @example
   * await r.wait(100); if (!r.ready()) console.log('still running')
   */
  wait(timeout?: number): Promise<void> {
    try {
      checkTimeout(timeout);
    } catch (error) {
      return Promise.reject(error);
    }
    const done = this.#promise.then(
      () => undefined,
      () => undefined,
    );
    if (this.#state !== 'pending' || timeout === undefined || timeout === null) return done;
    if (timeout === Infinity) return done;
    if (timeout <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeout);
      void done.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Whether the job has finished (successfully or not).
   * @example
   * if (r.ready()) console.log(await r)
   */
  ready(): boolean {
    return this.#state !== 'pending';
  }

  /**
   * Whether the job finished without an error; throws {@link InvalidStateError}
   * (`ERR_NOT_READY`) while it is still running, as Python's raises ValueError.
   * @example
   * await r.wait(); console.log(r.successful())
   */
  successful(): boolean {
    if (this.#state === 'pending')
      throw new InvalidStateError('AsyncResult is not ready', 'ERR_NOT_READY');
    return this.#state === 'fulfilled';
  }

  /** Promise interface: `await pool.applyAsync(f)` works. */
  then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#promise.then(onFulfilled, onRejected);
  }

  /** Promise interface: handles a failure. */
  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.#promise.catch(onRejected);
  }

  /** Promise interface: runs `onFinally` once settled. */
  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.#promise.finally(onFinally);
  }

  /** `<AsyncResult pending>`: the state, for logs. */
  toString(): string {
    return `<AsyncResult ${this.#state}>`;
  }

  /** Tag shown by `Object.prototype.toString`. */
  get [Symbol.toStringTag](): string {
    return 'AsyncResult';
  }
}
