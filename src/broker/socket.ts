// A framed connection to a broker: connects lazily with retry while the broker boots, reports when it is gone.
import { dirname } from 'node:path';
import { type Socket, connect } from 'node:net';
import { brokerGone, directoryExists } from './host.ts';
import { FrameReader } from './protocol.ts';

// A broker starts in the background; a child may try to connect before it listens.
const kConnectDeadlineMs = 10_000;
const kRetryMs = 10;

function ownerAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One socket to the broker at `address` (owned by process `pid`), carrying frames both ways.
 * Frames written before the connection is up are queued. When the broker is unreachable or goes
 * away, `onGone` is called once with an InvalidStateError `ERR_BROKER_GONE`; the socket is dead.
 * @example
 * const s = new FrameSocket(handle.address, handle.pid, onFrame, onGone)
 * s.write(encodeFrame([1, handle.id, 'release', []]))
 */
export class FrameSocket {
  readonly #address: string;
  readonly #pid: number;
  readonly #reader: FrameReader;
  readonly #onGone: (error: Error) => void;
  readonly #deadline = Date.now() + kConnectDeadlineMs;
  #socket: Socket | null = null;
  #queue: Buffer[] | null = [];
  #corked = false;
  #gone: Error | null = null;
  #ref = true;

  constructor(
    address: string,
    pid: number,
    onFrame: (body: Buffer) => void,
    onGone: (error: Error) => void,
  ) {
    this.#address = address;
    this.#pid = pid;
    this.#reader = new FrameReader(onFrame);
    this.#onGone = onGone;
    this.#connect();
  }

  /** The error this socket died with, or null while it lives. */
  get gone(): Error | null {
    return this.#gone;
  }

  #connect(): void {
    const socket = connect(this.#address);
    this.#socket = socket;
    if (!this.#ref) socket.unref();
    let lastError: NodeJS.ErrnoException | null = null;
    socket.on('connect', () => {
      const queued = this.#queue ?? [];
      this.#queue = null;
      if (queued.length) {
        socket.cork();
        for (const frame of queued) socket.write(frame);
        socket.uncork();
      }
    });
    socket.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    socket.on('error', (error) => (lastError = error));
    socket.on('close', () => {
      if (this.#gone) return;
      if (this.#queue && this.#retryable(lastError)) {
        const timer = setTimeout(() => this.#connect(), kRetryMs);
        if (!this.#ref) timer.unref();
        return;
      }
      this.#die(
        brokerGone(
          this.#queue
            ? `cannot reach the broker of process ${this.#pid} at ${this.#address}: ${lastError?.code ?? 'closed'} (it has stopped, or its process has exited)`
            : `the broker of process ${this.#pid} went away (it was stopped, or its process exited)`,
          lastError ?? undefined,
        ),
      );
    });
  }

  #retryable(error: NodeJS.ErrnoException | null): boolean {
    if (!error || (error.code !== 'ENOENT' && error.code !== 'ECONNREFUSED')) return false;
    if (Date.now() > this.#deadline || !ownerAlive(this.#pid)) return false;
    // A stopped broker removes its directory; a booting one has created it already.
    return process.platform === 'win32' || directoryExists(dirname(this.#address));
  }

  #die(error: Error): void {
    this.#gone = error;
    this.#queue = null;
    this.#socket?.destroy();
    this.#onGone(error);
  }

  /** Sends a frame (frames written in one tick leave in one write). Ignored once gone. */
  write(frame: Buffer): void {
    if (this.#gone) return;
    if (this.#queue) {
      this.#queue.push(frame);
      return;
    }
    const socket = this.#socket!;
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        socket.uncork();
      });
    }
    socket.write(frame);
  }

  /** Keeps the process alive while calls are pending. */
  ref(): void {
    this.#ref = true;
    this.#socket?.ref();
  }

  /** Lets the process exit while this socket is idle. */
  unref(): void {
    this.#ref = false;
    this.#socket?.unref();
  }

  /** Closes the connection. */
  close(): void {
    if (!this.#gone) this.#die(brokerGone('the connection to the broker was closed'));
  }
}
