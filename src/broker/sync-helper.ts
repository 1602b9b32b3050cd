// The helper thread of a child's sync bridge: does socket round trips while the calling thread sleeps in a futex wait.
import type { MessagePort } from 'node:worker_threads';
import { serializeError } from '../reduction/errors.ts';
import { FrameSocket } from './socket.ts';
import { kBridgeFlag } from './protocol.ts';
import { notify } from '../shared/atomics.ts';

/** What the sync bridge gives its helper thread. */
export interface HelperData {
  readonly moduleUrl: string;
  readonly address: string;
  readonly pid: number;
  readonly port: MessagePort;
  /** The Int32 words of {@link kBridgeFlag}. */
  readonly flag: SharedArrayBuffer;
}

/**
 * Entry point of the helper thread: relays request frames from the port to the broker and
 * reply bodies back, waking the caller after each. When the broker is gone it answers every
 * request with `{ gone }` (a serialized InvalidStateError) so the caller never hangs.
 * @example
 * new Worker(kHelperEntry, { workerData: { moduleUrl, address, pid, port, flag }, transferList: [port] })
 */
export function main(data: HelperData): void {
  const { port } = data;
  const flag = new Int32Array(data.flag);
  const wake = () => {
    Atomics.store(flag, kBridgeFlag.reply, 1);
    notify(flag, kBridgeFlag.reply);
  };
  const goneReply = (error: Error) => ({ gone: serializeError(error) });
  const socket = new FrameSocket(
    data.address,
    data.pid,
    (body) => {
      // Copy the reply out of the socket chunk and move it: the chunk may hold other frames.
      const own = new Uint8Array(body);
      port.postMessage(own, [own.buffer]);
      wake();
    },
    (error) => {
      port.postMessage(goneReply(error));
      wake();
    },
  );
  port.on('message', (frame: Uint8Array) => {
    if (socket.gone) {
      port.postMessage(goneReply(socket.gone));
      wake();
      return;
    }
    socket.write(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
  });
  // Should anything here fail, the caller must still wake up.
  process.on('uncaughtException', (error) => {
    port.postMessage(goneReply(error));
    wake();
  });
  // From now on a failure wakes the caller: it may stop looking at the port on its own.
  Atomics.store(flag, kBridgeFlag.running, 1);
}
