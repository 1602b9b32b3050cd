// Functions the showcase runs in workers (a module without top-level side effects, so workers import it cheaply).
import * as mp from 'multiprocessing-ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Python's first tutorial program: a worker that reports when it starts and finishes. */
export async function worker(num: number): Promise<void> {
  const me = mp.currentProcess();
  console.log(
    `  Worker ${num} started  (${me.name}, pid ${me.pid}, parent ${mp.parentProcess()?.name})`,
  );
  await sleep(100 + 50 * num);
  console.log(`  Worker ${num} finished (${me.name})`);
}

/** Puts n² into the queue. */
export async function putSquare(queue: mp.Queue<number>, n: number): Promise<void> {
  await queue.put(n * n);
}

/** Adds 1 to the shared counter under its lock, `times` times. */
export function increment(counter: mp.SynchronizedValue<number>, times: number): void {
  const lock = counter.getLock();
  for (let i = 0; i < times; i++) {
    lock.acquireSync();
    counter.value += 1;
    lock.release();
  }
}

/** x². */
export function square(x: number): number {
  return x * x;
}

/** a × b. */
export function multiply(a: number, b: number): number {
  return a * b;
}

/** Logs through the library logger, which prints the worker's name. */
export function logSomething(n: number): number {
  mp.getLogger().info(`working on item ${n}`);
  return n;
}

/** Raises a custom error in the worker. */
export function parse(text: string): number {
  const n = Number(text);
  if (Number.isNaN(n)) throw new SyntaxError(`not a number: ${JSON.stringify(text)}`);
  return n;
}

/** A worker that fails: its error is printed as "Process <name>:" and its exit code is 1. */
export function failing(): void {
  throw new Error('something went wrong in the worker');
}

/** Counts the primes in [from, to) by trial division: the CPU-bound job of the tour. */
export function countPrimes(from: number, to: number): number {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}
