// `npm start`: a guided tour of multiprocessing-ts, running Python's tutorial programs in TypeScript.
import * as mp from 'multiprocessing-ts';
import { parseArgs } from 'node:util';
import { failing, worker } from './work.ts';

const heading = (text: string) => console.log(`\n\x1b[1m== ${text}\x1b[0m`);

async function processes(ctx: mp.Context): Promise<void> {
  heading('Process: four workers start, sleep and finish');
  const jobs = [1, 2, 3, 4].map((n) => new ctx.Process({ target: worker, args: [n] }));
  for (const p of jobs) p.start();
  for (const p of jobs) await p.join();
  for (const p of jobs) console.log(`  ${p.name}: pid ${p.pid}, exit code ${p.exitCode}`);
}

async function errors(ctx: mp.Context): Promise<void> {
  heading('An uncaught error in a worker: printed as "Process <name>:", exit code 1');
  const p = new ctx.Process({ target: failing, name: 'Failing-1' });
  p.start();
  await p.join();
  console.log(`  ${p.name}: exit code ${p.exitCode}`);
  const q = new ctx.Process({ target: (code: number) => process.exit(code), args: [3] });
  q.start();
  await q.join();
  console.log(`  ${q.name} called process.exit(3): exit code ${q.exitCode}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { context: { type: 'string', default: 'thread' } } });
  const ctx = mp.getContext(values.context as mp.StartMethod);
  const started = performance.now();
  console.log(
    `multiprocessing-ts tour: context '${ctx.method}', ${mp.cpuCount()} CPUs, main process ${mp.currentProcess().name} (pid ${process.pid})`,
  );
  await processes(ctx);
  await errors(ctx);
  console.log(`\nTour finished in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
}

if (mp.isMainProcess()) await main();
