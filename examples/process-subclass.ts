// Example: subclass Process and override run(); the instance's own fields travel to the worker.
import * as mp from 'multiprocessing-ts';

export class Countdown extends mp.Process {
  from = 3;

  override run(): void {
    for (let i = this.from; i > 0; i--) console.log(`${this.name}: ${i}`);
    console.log(`${this.name}: liftoff`);
  }
}

if (mp.isMainProcess()) {
  const p = new Countdown();
  p.from = 2;
  p.start();
  await p.join();
  console.log(`exit code ${p.exitCode}`);
}
