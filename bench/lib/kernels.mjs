// Worker-side kernels of our benchmarks; they travel to workers by module reference.

// W2 kernel: count primes below `limit` by plain trial division.
// Copied statement for statement from shared/bench/peers/lib/kernel.mjs (the peers' kernel).
export function countPrimes(limit) {
  let count = 0;
  let n = 2;
  while (n < limit) {
    let d = 2;
    let isPrime = 1;
    while (d * d <= n) {
      if (n % d === 0) {
        isPrime = 0;
        break;
      }
      d += 1;
    }
    count += isPrime;
    n += 1;
  }
  return count;
}

export const W2_LIMIT = 300000;
export const W2_TASKS = 32;
export const W2_EXPECTED = 25997; // primes below 300,000

/** W3: the target of a started-and-joined Process. */
export function noop() {}
