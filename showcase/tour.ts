// `npm start`: a guided tour of multiprocessing-ts, running Python's tutorial programs in TypeScript.
import * as mp from 'multiprocessing-ts';
import { parseArgs } from 'node:util';
import {
  countPrimes,
  failing,
  increment,
  logSomething,
  multiply,
  parse,
  putSquare,
  square,
  worker,
} from './work.ts';
import { progressBar } from './progress.ts';

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const heading = (n: number, text: string) => console.log(`\n${bold(`${n}. ${text}`)}`);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function processes(ctx: mp.Context): Promise<void> {
  heading(1, 'Process: four workers start, sleep and finish');
  const jobs = [1, 2, 3, 4].map((n) => new ctx.Process({ target: worker, args: [n] }));
  for (const p of jobs) p.start();
  for (const p of jobs) await p.join();
  for (const p of jobs) console.log(`  ${p.name}: pid ${p.pid}, exit code ${p.exitCode}`);
}

async function queue(ctx: mp.Context): Promise<void> {
  heading(2, 'Queue: five processes each put n², the parent collects them');
  const q = new ctx.Queue<number>();
  const jobs = [1, 2, 3, 4, 5].map((n) => new ctx.Process({ target: putSquare, args: [q, n] }));
  for (const p of jobs) p.start();
  for (const p of jobs) await p.join();
  const squares = await Promise.all(jobs.map(() => q.get()));
  console.log(
    `  got ${JSON.stringify(squares)} (in arrival order); sorted: ${JSON.stringify([...squares].sort((a, b) => a - b))}`,
  );
}

async function sharedValue(ctx: mp.Context): Promise<void> {
  heading(3, "Value: five processes increment one Value('i', 0) under its lock");
  const counter = ctx.Value('i', 0);
  const jobs = range(5).map(() => new ctx.Process({ target: increment, args: [counter, 1000] }));
  for (const p of jobs) p.start();
  for (const p of jobs) await p.join();
  console.log(`  counter.value = ${counter.value} (5 × 1000 increments, none lost)`);
}

async function pools(ctx: mp.Context): Promise<void> {
  heading(4, 'Pool(4).map(square, range(10))');
  {
    await using pool = new ctx.Pool(4);
    console.log(`  ${JSON.stringify(await pool.map(square, range(10)))}`);
    heading(5, 'pool.starmap(multiply, pairs)');
    const pairs: [number, number][] = [
      [1, 2],
      [3, 4],
      [5, 6],
    ];
    console.log(`  ${JSON.stringify(await pool.starmap(multiply, pairs))}`);
  }
  heading(6, `A pool of cpuCount() - 1 = ${Math.max(1, mp.cpuCount() - 1)} workers`);
  await using pool = new ctx.Pool(Math.max(1, mp.cpuCount() - 1));
  console.log(
    `  squares of 0..19: ${JSON.stringify(await pool.map((x: number) => x * x, range(20)))}`,
  );
}

async function logging(ctx: mp.Context): Promise<void> {
  heading(7, 'Logging with process names (mp.logToStderr)');
  const logger = mp.logToStderr('INFO');
  logger.info('the parent logs too');
  await using pool = new ctx.Pool(2);
  await pool.map(logSomething, [1, 2, 3], 1);
  logger.level = 'WARNING';
}

async function errors(ctx: mp.Context): Promise<void> {
  heading(8, 'Errors: raised in a worker, caught in the parent with their own class');
  await using pool = new ctx.Pool(2);
  try {
    await pool.apply(parse, ['forty-two']);
  } catch (error) {
    const e = error as Error;
    console.log(
      `  caught ${e.name} (instanceof SyntaxError: ${e instanceof SyntaxError}): ${e.message}`,
    );
    console.log(`  the remote stack is kept as error.cause: ${(e.cause as Error).name}`);
  }
  const p = new ctx.Process({ target: failing, name: 'Failing-1' });
  p.start();
  await p.join();
  console.log(`  an uncaught error in ${p.name} printed its stack above; exit code ${p.exitCode}`);
}

async function cpuBound(ctx: mp.Context, limit: number): Promise<void> {
  heading(9, `A real CPU-bound job: count the primes below ${limit.toLocaleString('en')}`);
  const chunk = 25_000;
  const ranges = range(Math.ceil(limit / chunk)).map((i): [number, number] => [
    i * chunk,
    Math.min(limit, (i + 1) * chunk),
  ]);
  let started = performance.now();
  let serial = 0;
  const bar1 = progressBar('  serial  ', ranges.length);
  for (const [from, to] of ranges) {
    serial += countPrimes(from, to);
    bar1.tick();
  }
  bar1.done();
  const serialMs = performance.now() - started;
  await using pool = new ctx.Pool();
  await pool.map((x: number) => x, [0, 1]); // let the workers start before timing
  const bar2 = progressBar(`  parallel`, ranges.length);
  started = performance.now();
  const counts = await pool.starmap(countPrimes, ranges, {
    chunksize: 1,
    onProgress: () => bar2.tick(),
  });
  const parallelMs = performance.now() - started;
  bar2.done();
  const parallel = counts.reduce((a, b) => a + b, 0);
  console.log(
    `  ${serial.toLocaleString('en')} primes serially in ${(serialMs / 1000).toFixed(2)} s`,
  );
  console.log(
    `  ${parallel.toLocaleString('en')} primes on ${mp.cpuCount()} workers in ${(parallelMs / 1000).toFixed(2)} s`,
  );
  console.log(`  speedup ×${(serialMs / parallelMs).toFixed(2)} on ${mp.cpuCount()} CPUs`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      context: { type: 'string', default: 'thread' },
      limit: { type: 'string', default: '6000000' },
    },
  });
  const ctx = mp.getContext(values.context as mp.StartMethod);
  const started = performance.now();
  console.log(
    bold(
      `multiprocessing-ts tour — context '${ctx.method}', ${mp.cpuCount()} CPUs, main process ${mp.currentProcess().name} (pid ${process.pid})`,
    ),
  );
  await processes(ctx);
  await queue(ctx);
  await sharedValue(ctx);
  await pools(ctx);
  await logging(ctx);
  await errors(ctx);
  await cpuBound(ctx, Number(values.limit));
  console.log(
    `\nTour finished in ${((performance.now() - started) / 1000).toFixed(1)} s. Try \`npm start -- --context process\`.`,
  );
}

if (mp.isMainProcess()) await main();
