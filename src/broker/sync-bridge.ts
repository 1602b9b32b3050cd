// Blocking calls to a broker from a child's thread: a helper thread does the round trip while this one waits.
import {
  MessageChannel,
  type MessagePort,
  Worker,
  receiveMessageOnPort,
} from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloneError } from '../reduction/values.ts';
import { type SerializedError, deserializeError } from '../reduction/errors.ts';
import { waitSync } from '../shared/atomics.ts';
import { allocateShared } from '../shared/memory.ts';
import { brokerGone, kHelperEntry } from './host.ts';
import type { HelperData } from './sync-helper.ts';
import { type ReplyFrame, decodeBody, encodeFrame, kBridgeFlag } from './protocol.ts';

// A helper that fails to start can only post `gone` on the port (entry.mjs does): until it runs,
// the caller looks at the port this often instead of waiting for a wake-up.
const kStartPollMs = 50;

const kHelperUrl = new URL(
  `./sync-helper${extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
).href;

/**
 * The synckit pattern, one per (thread, broker): `call()` posts the request frame to a helper
 * thread, sleeps in a futex wait until the helper has the reply, then takes it with
 * receiveMessageOnPort. The helper is unref'd, so an idle child can exit.
 * @example
 * const bridge = new SyncBridge(handle.address, handle.pid)
 * bridge.call(handle.id, 'release', [owner])
 */
export class SyncBridge {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #flag = new Int32Array(allocateShared(kBridgeFlag.words * 4));
  #nextId = 1;
  #gone: Error | null = null;

  constructor(address: string, pid: number) {
    const { port1, port2 } = new MessageChannel();
    const data: HelperData = {
      moduleUrl: kHelperUrl,
      address,
      pid,
      port: port2,
      flag: this.#flag.buffer as SharedArrayBuffer,
    };
    this.#worker = new Worker(kHelperEntry, {
      workerData: data,
      transferList: [port2],
      name: 'multiprocessing-ts sync bridge',
    });
    this.#worker.unref();
    this.#worker.on('error', (error) => {
      this.#gone = brokerGone('the sync bridge thread failed', error);
    });
    this.#port = port1;
  }

  /** The error this bridge died with, or null while it works. */
  get gone(): Error | null {
    return this.#gone;
  }

  /** Runs `method` of core `coreId` on the broker and blocks until it answers; throws its error. */
  call(coreId: number, method: string, args: readonly unknown[]): unknown {
    if (this.#gone) throw this.#gone;
    const id = this.#nextId++;
    let frame: Buffer;
    try {
      frame = encodeFrame([id, coreId, method, args]);
    } catch (error) {
      throw cloneError(error, `a call to ${method}()`, args);
    }
    Atomics.store(this.#flag, kBridgeFlag.reply, 0);
    this.#port.postMessage(frame);
    for (;;) {
      const running = Atomics.load(this.#flag, kBridgeFlag.running) === 1;
      waitSync(this.#flag, kBridgeFlag.reply, 0, running ? Infinity : kStartPollMs);
      Atomics.store(this.#flag, kBridgeFlag.reply, 0);
      for (let m = receiveMessageOnPort(this.#port); m; m = receiveMessageOnPort(this.#port)) {
        const message = m.message as Uint8Array | { gone: SerializedError };
        if (!(message instanceof Uint8Array)) {
          this.#gone = deserializeError(message.gone) as Error;
          this.#worker.terminate().catch(() => {});
          throw this.#gone;
        }
        const reply = decodeBody(message) as ReplyFrame;
        if (reply[0] !== id) continue;
        if (reply[1]) return reply[2];
        throw deserializeError(reply[2]);
      }
    }
  }

  /** Stops the helper thread. */
  close(): void {
    this.#gone ??= brokerGone('the sync bridge was closed');
    void this.#worker.terminate();
  }
}
