// Example: a Pipe between the parent and a worker; closing the child's end in the parent lets EOF through.
import * as mp from 'multiprocessing-ts';

export function echo(conn: mp.Connection<string>): void {
  for (;;) {
    let msg: string;
    try {
      msg = conn.recvSync();
    } catch (e) {
      if (e instanceof mp.EOFError) return; // the parent closed its end
      throw e;
    }
    conn.send(msg.toUpperCase());
  }
}

if (mp.isMainProcess()) {
  const [parent, child] = mp.Pipe<string>();
  const p = new mp.Process({ target: echo, args: [child] });
  p.start();
  child.close(); // Python's idiom: the parent does not use the child's end
  for (const word of ['hello', 'pipe']) {
    parent.send(word);
    console.log('echo:', await parent.recv());
  }
  console.log('poll with nothing sent:', await parent.poll());
  parent.close(); // the worker sees EOF and returns
  await p.join();
  console.log('echo exit code:', p.exitCode);

  // Raw bytes, and a one-way pipe.
  const [r, w] = mp.Pipe(false);
  w.sendBytes(new TextEncoder().encode('bytes!'), 0, 5);
  console.log('bytes:', new TextDecoder().decode(await r.recvBytes()));
  w.close();
  await r.recv().catch((e: Error) => console.log('after the writer closed:', e.name));
  r.close();
}
