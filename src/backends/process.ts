// The process backend: workers are child processes forked with advanced (structured clone) serialization.
import { fork, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Backend, Message, SpawnOptions, WorkerEvents, WorkerHandle } from './types.ts';
import { kEntryUrl } from './urls.ts';
import { HoldingLedger } from '../runtime/holdings.ts';
import type { BootMessage } from '../runtime/protocol.ts';
import { brokerEnvironment } from '../broker/provider.ts';
import { kDieWithVariable } from '../runtime/parent-death.ts';

/** Child processes of this thread that have not exited yet (tests check none are left behind). */
export const liveChildren = new Set<ChildProcess>();
const live = liveChildren;
let exitHookInstalled = false;

// At exit, a child still running is either daemonic (non-daemonic ones keep Node alive) or we
// are leaving through process.exit(): either way Python terminates it, so do we.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGTERM');
  });
}

function resourceFlags(limits: NonNullable<SpawnOptions['resourceLimits']>): string[] {
  const flags: string[] = [];
  if (limits.maxOldGenerationSizeMb)
    flags.push(`--max-old-space-size=${limits.maxOldGenerationSizeMb}`);
  if (limits.maxYoungGenerationSizeMb)
    flags.push(
      `--max-semi-space-size=${Math.max(1, Math.floor(limits.maxYoungGenerationSizeMb / 3))}`,
    );
  if (limits.stackSizeMb) flags.push(`--stack-size=${Math.floor(limits.stackSizeMb * 1024)}`);
  return flags;
}

/** Runs workers as child processes of this one: isolated memory, signals, `process.exit`. */
export const processBackend: Backend = {
  method: 'process',
  // No fast path: a child's messages go through IPC either way.
  spawn<In extends Message, Out extends Message>(
    options: SpawnOptions,
    events: WorkerEvents<In>,
  ): WorkerHandle<Out> {
    installExitHook();
    const child = fork(kEntryUrl, [], {
      serialization: 'advanced',
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      // The child reaches the broker of the process that owns shared buffers (named SharedMemory).
      env: {
        ...(options.env ?? process.env),
        ...brokerEnvironment(),
        // The child asks the kernel to end it with this thread (see runtime/parent-death.ts).
        [kDieWithVariable]: String(process.pid),
      },
      execArgv: [
        ...process.execArgv,
        ...(options.resourceLimits ? resourceFlags(options.resourceLimits) : []),
        ...(options.execArgv ?? []),
      ],
    });
    live.add(child);
    // The child says hello once its boot listener is attached; messages sent earlier could be lost.
    const pending: Message[] = [];
    let greeted = false;
    const send = (msg: Message) => {
      if (child.connected) child.send(msg, (err) => err && void 0);
    };
    const ledger = new HoldingLedger();
    child.on('message', (msg: Message) => {
      if (ledger.record(msg)) return;
      if (msg.t === 'hello') {
        greeted = true;
        const boot: BootMessage = { t: 'boot', boot: options.boot };
        send(boot);
        for (const m of pending.splice(0)) send(m);
        return;
      }
      events.message(msg as In);
    });
    child.on('error', () => {
      // 'error' reports a failed kill/send; 'exit' still follows for a dead child.
    });
    child.on('exit', (code, signal) => {
      live.delete(child);
      // A child killed by a signal ran no exit hook: release what it held (pipe ends → EOF).
      if (signal !== null) ledger.releaseAll();
      const exitCode = code ?? -(constants.signals[signal as keyof typeof constants.signals] ?? 1);
      events.exit(exitCode, signal);
    });
    return {
      pid: child.pid ?? -1,
      ident: child.pid ?? -1,
      // IPC copies everything: a transfer list has nothing to move.
      post: (msg: Out) => {
        if (greeted) send(msg);
        else pending.push(msg);
      },
      terminate: () =>
        void (child.exitCode === null && child.signalCode === null && child.kill('SIGTERM')),
      kill: () =>
        void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')),
      ref: () => {
        child.ref();
        (child.channel as { ref?: () => void } | undefined)?.ref?.();
      },
      unref: () => {
        child.unref();
        (child.channel as { unref?: () => void } | undefined)?.unref?.();
      },
    };
  },
};
