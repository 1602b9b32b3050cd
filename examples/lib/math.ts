// A plain TypeScript module used by the examples.
const memo = new Map<number, number>();

/** The n-th Fibonacci number (memoised in module state, so it travels by module reference). */
export function fib(n: number): number {
  if (n < 2) return n;
  const known = memo.get(n);
  if (known !== undefined) return known;
  const value = fib(n - 1) + fib(n - 2);
  memo.set(n, value);
  return value;
}

/** Prints fib(n). */
export function logFib(n: number): void {
  console.log(`logFib: fib(${n}) = ${fib(n)}`);
}
