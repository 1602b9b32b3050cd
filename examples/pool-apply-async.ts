// Example: applyAsync with callbacks, AsyncResult.get(timeout), faults Python hangs on, terminate().
import * as mp from 'multiprocessing-ts';

export function add(a: number, b: number): number {
  return a + b;
}

export function fail(message: string): never {
  throw new RangeError(message);
}

export function crash(): never {
  process.exit(3); // the worker dies: Python's Pool would hang here forever
}

export function forever(): never {
  for (;;);
}

if (mp.isMainProcess()) {
  const pool = new mp.Pool({ processes: 2 });
  pool.on('error', (e) => console.log('a callback threw:', (e as Error).message));

  const r = pool.applyAsync(add, [2, 3], { callback: (v) => console.log('callback got', v) });
  console.log('result:', await r.get(10_000), 'ready:', r.ready(), 'successful:', r.successful());

  const bad = pool.applyAsync(fail, ['nope'], {
    errorCallback: (e) => console.log('errorCallback got', (e as Error).name),
  });
  await bad.wait();
  console.log('successful:', bad.successful());

  const died = await pool.apply(crash).catch((e: mp.WorkerDiedError) => e);
  console.log(`${died.name}: exit code ${died.exitCode}; the pool replaced the worker`);

  const slow = pool.applyAsync(forever);
  await slow.get(50).catch((e) => console.log('get(50):', e.name));
  const timed = await pool.apply(forever, [], { timeout: 100 }).catch((e) => e.name);
  console.log('a task with timeout 100 ms:', timed);

  pool.applyAsync(add, [1, 1], {
    callback: () => {
      throw new Error('oops');
    },
  });
  await pool.apply(add, [0, 0]);

  await pool.terminate(); // rejects what is still pending, such as the endless task
  console.log('after terminate:', await slow.get().catch((e) => e.name));
}
